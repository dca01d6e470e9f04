"""brands: a reseller's (or the operator's) name, logo, colour, support address and host

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 07:00:00.000000

The admin and the mails show the nearest branded account's brand above a
user or widget (services/brands.py); none stored means the operator's
defaults, as before.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'brands',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('product_name', sa.String(length=60), nullable=False),
        sa.Column('primary_colour', sa.String(length=7), nullable=False),
        sa.Column('support_email', sa.String(length=254), nullable=True),
        sa.Column('host_name', sa.String(length=253), nullable=True),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=16), nullable=True),
        sa.Column('logo_digest', sa.String(length=64), nullable=True),
        sa.Column('logo_width', sa.Integer(), nullable=True),
        sa.Column('logo_height', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id'),
        sa.UniqueConstraint('host_name'),
    )
    with op.batch_alter_table('brands') as batch_op:
        batch_op.create_index('ix_brands_logo_digest', ['logo_digest'])


def downgrade():
    op.drop_table('brands')
