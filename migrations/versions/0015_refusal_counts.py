"""refused embed requests are counted per widget, UTC day and reason

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 07:30:00.000000

Refusals left no trace a site owner could see; abuse/refusals.py now adds one
to a row per widget, day and reason (one upsert on the refusal path).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'refusal_counts',
        sa.Column('widget_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=24), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['widget_id'], ['widgets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('widget_id', 'day', 'reason'),
    )


def downgrade():
    op.drop_table('refusal_counts')
