"""a parent manages its clients: suspend, delete, provider and widget limits

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 07:00:00.000000

An account gets what its parent decides for it: whether it may add provider
accounts of its own and how many widgets it may have; when it was suspended
(its widgets refuse visitors, its users and keys are refused) and when it was
deleted. A deleted account stays as a row, so the calls of past months stay in
the reports; its name is free again, so the sibling-name index now covers live
accounts only.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

INDEX = 'uq_accounts_sibling_name'
COLUMNS = [sa.text('coalesce(parent_id, 0)'), sa.text('lower(name)')]


def upgrade():
    # First: SQLite's batch rebuild of the table would lose the expression index.
    op.drop_index(INDEX, table_name='accounts')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.add_column(sa.Column('may_add_providers', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('max_widgets', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
    live = sa.text('deleted_at IS NULL')
    op.create_index(INDEX, 'accounts', COLUMNS, unique=True, sqlite_where=live,
                    postgresql_where=live)


def downgrade():
    # Fails if a deleted account and a live sibling share a name: rename one first.
    op.drop_index(INDEX, table_name='accounts')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('max_widgets')
        batch_op.drop_column('may_add_providers')
    op.create_index(INDEX, 'accounts', COLUMNS, unique=True)
