"""calls remember the last event published to mail and webhooks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:10:00.000000

call_events is the outbox of a call's news (calls/events.py); the cursor
says how far it was handed on. Calls stored before it have nothing to tell:
their cursor starts at their last event.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.add_column(sa.Column('published_event_id', sa.Integer(), nullable=True))
    op.execute('UPDATE call_requests SET published_event_id = '
               '(SELECT max(id) FROM call_events WHERE call_events.call_id = call_requests.id)')


def downgrade():
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.drop_column('published_event_id')
