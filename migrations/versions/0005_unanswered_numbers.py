"""numbers whose call-backs went unanswered, cooled down across the installation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'unanswered_numbers',
        sa.Column('e164', sa.String(length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.Column('cooled_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('e164'),
    )


def downgrade():
    op.drop_table('unanswered_numbers')
