"""a counter of changes to widgets, their domains, accounts and providers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 11:00:00.000000

Call requests keep widgets in memory per process and check this one row to
know them current (widget_server/settings_version.py). The row is made by the
first change; until then the version reads 0.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'settings_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('settings_version')
