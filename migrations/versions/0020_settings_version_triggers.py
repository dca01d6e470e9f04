"""the database moves the settings version on every write to widgets, domains, accounts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 12:00:00.000000

Triggers, not the app's session events: a change made by SQL in psql, by a data
migration or by a process still running older code must stop calls at the next
request as surely as one made through the services (calls/live_widgets.py).

The version is the greater of one more and the clock in microseconds, so it
never returns to a value a process may have kept, even if its row is deleted.

A SQLite batch migration that rebuilds one of these tables drops its triggers:
such a migration must create them again (tests/test_settings_version.py fails
otherwise).

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TABLES = ('widgets', 'allowed_domains', 'accounts')

POSTGRESQL_FUNCTION = """
CREATE FUNCTION bump_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO settings_version (id, value)
    VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
    ON CONFLICT (id) DO UPDATE SET value = greatest(
        settings_version.value + 1,
        (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
    RETURN NULL;
END
$$
"""

SQLITE_NOW = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_FUNCTION)
        for table in TABLES:
            op.execute(f'CREATE TRIGGER {table}_bump_settings_version '
                       f'AFTER INSERT OR UPDATE OR DELETE ON {table} '
                       'FOR EACH STATEMENT EXECUTE FUNCTION bump_settings_version()')
        return
    for table in TABLES:
        for event in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER {table}_{event.lower()}_bumps_settings_version '
                f'AFTER {event} ON {table} BEGIN '
                f'INSERT OR IGNORE INTO settings_version (id, value) VALUES (1, 0); '
                f'UPDATE settings_version SET value = max(value + 1, {SQLITE_NOW}) '
                'WHERE id = 1; END')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f'DROP TRIGGER {table}_bump_settings_version ON {table}')
        op.execute('DROP FUNCTION bump_settings_version()')
        return
    for table in TABLES:
        for event in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER {table}_{event}_bumps_settings_version')
