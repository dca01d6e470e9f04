"""widgets get an optional promise shown under the form's heading

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 07:00:00.000000

A site owner's short sentence such as "We call you back within 30 seconds"
(issue 13, item 9). Existing widgets get none: an empty text shows nothing.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.add_column(sa.Column('promise_text', sa.String(length=80), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.drop_column('promise_text')
