"""mail to site owners: each widget's recipients and events, and the mail outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:00:00.000000

mail_deliveries is the outbox the queue sends from and the delivery log the
admin shows (mail/outbox.py).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.add_column(sa.Column('notify_emails', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.add_column(sa.Column('notify_events', sa.JSON(), server_default='[]',
                                      nullable=False))
    op.create_table(
        'mail_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('widget_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['call_id'], ['call_requests.id']),
        sa.ForeignKeyConstraint(['widget_id'], ['widgets.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    with op.batch_alter_table('mail_deliveries') as batch_op:
        batch_op.create_index('ix_mail_deliveries_account_id', ['account_id'])
        batch_op.create_index('ix_mail_deliveries_created_at', ['created_at'])


def downgrade():
    op.drop_table('mail_deliveries')
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.drop_column('notify_events')
        batch_op.drop_column('notify_emails')
