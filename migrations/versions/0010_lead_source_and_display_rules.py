"""calls keep where the lead came from; widgets get display rules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:00:00.000000

The page URL and campaign parameters (issue 12, section 4) are stored on
each call for the report, CSV and API; the floating button's display rules
(section 5) on each widget. Existing rows get empty values: nothing was
recorded before.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.add_column(sa.Column('page_url', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('campaign', sa.JSON(), server_default='{}',
                                      nullable=False))
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.add_column(sa.Column('show_on_paths', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.add_column(sa.Column('hide_on_paths', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.add_column(sa.Column('show_after_seconds', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('show_after_scroll', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('widgets') as batch_op:
        for column in ('show_after_scroll', 'show_after_seconds', 'hide_on_paths',
                       'show_on_paths'):
            batch_op.drop_column(column)
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.drop_column('campaign')
        batch_op.drop_column('page_url')
