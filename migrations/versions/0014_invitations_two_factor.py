"""invitations and two-factor sign-in: TOTP secrets, recovery codes, remembered devices

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 07:00:00.000000

An invited user has no password until they choose one (an empty hash). The
TOTP secret is stored encrypted (Fernet), like provider credentials; recovery
codes as SHA-256 digests. An account may require a second factor of everyone
in its subtree.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# The expression index 0007 made, which SQLite's batch mode (a copied table) would lose.
SIBLING_INDEX = 'uq_accounts_sibling_name'


def upgrade():
    # Plain ADD COLUMN (SQLite has it): no batch copy of the tables.
    op.add_column('accounts', sa.Column('require_two_factor', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('users', sa.Column('totp_secret_encrypted', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('totp_enabled', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_codes_user_id', 'recovery_codes', ['user_id'])
    op.create_table(
        'remembered_devices',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_remembered_devices_user_id', 'remembered_devices', ['user_id'])


def downgrade():
    op.drop_index('ix_remembered_devices_user_id', table_name='remembered_devices')
    op.drop_table('remembered_devices')
    op.drop_index('ix_recovery_codes_user_id', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled')
        batch_op.drop_column('totp_secret_encrypted')
    op.drop_index(SIBLING_INDEX, table_name='accounts')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('require_two_factor')
    op.create_index(SIBLING_INDEX, 'accounts',
                    [sa.text('coalesce(parent_id, 0)'), sa.text('lower(name)')], unique=True)
