"""users choose the admin's language and the time zone reports show times in

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 07:00:00.000000

Both empty (NULL) for everyone so far: the admin follows the browser's
language, and reports show each call in its widget's time zone.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('language')
