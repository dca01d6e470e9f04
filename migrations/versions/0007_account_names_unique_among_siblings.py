"""account names are unique among siblings (same parent), case-insensitively

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000

A name was unique across the whole installation, so one reseller's 409 told
it another reseller's client names. Now two clients of different resellers
may share a name; under one parent "Acme" and "acme" are one name. The
unique index is on (coalesce(parent_id, 0), lower(name)): both SQLite and
PostgreSQL index expressions, and the coalesce makes roots (parent_id NULL)
siblings of each other too, as NULLs are distinct in a unique index.
Siblings that clash only by case (the API compared names exactly) are renamed
"name (id)" first, so the index can be built.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEX = 'uq_accounts_sibling_name'
# SQLite names no constraint it was not given a name for: name it to drop it.
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _rename_case_clashes(connection):
    seen = set()
    for account_id, parent_id, name in connection.execute(sa.text(
            'SELECT id, parent_id, name FROM accounts ORDER BY id')).all():
        key = (parent_id or 0, name.lower())
        if key in seen:
            connection.execute(sa.text('UPDATE accounts SET name = :name WHERE id = :id'),
                               {'name': f'{name[:100]} ({account_id})', 'id': account_id})
        seen.add(key)


def _drop_global_unique(connection):
    if connection.dialect.name == 'sqlite':
        # Rebuilds the table: SQLite cannot drop a table constraint (env.py turns
        # foreign keys off while migrating, as the rebuild drops the old table).
        with op.batch_alter_table('accounts', naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint('uq_accounts_name', type_='unique')
    else:
        op.drop_constraint('accounts_name_key', 'accounts', type_='unique')


def upgrade():
    connection = op.get_bind()
    _rename_case_clashes(connection)
    _drop_global_unique(connection)
    op.create_index(INDEX, 'accounts', [sa.text('coalesce(parent_id, 0)'), sa.text('lower(name)')],
                    unique=True)


def downgrade():
    # Fails if two accounts under different parents now share a name: rename one first.
    op.drop_index(INDEX, table_name='accounts')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('accounts', naming_convention=NAMING) as batch_op:
            batch_op.create_unique_constraint('uq_accounts_name', ['name'])
    else:
        op.create_unique_constraint('accounts_name_key', 'accounts', ['name'])
