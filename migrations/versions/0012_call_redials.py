"""calls are redialled: one row per attempt, and each widget's redial settings

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 04:00:00.000000

A call the business did not answer is tried again as a new call row that
points at the visitor's request (calls/redial.py). Calls stored before were
their request's only attempt, and rang the widget's first number.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.add_column(sa.Column('redial_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('redial_interval_minutes', sa.Integer(), nullable=False,
                                      server_default='10'))
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.add_column(sa.Column('redial_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempt', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.add_column(sa.Column('attempt_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('business_number', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_call_requests_redial_of_id', ['redial_of_id'])
        batch_op.create_unique_constraint('uq_call_requests_attempt',
                                          ['redial_of_id', 'attempt'])
        batch_op.create_foreign_key('fk_call_requests_redial_of_id', 'call_requests',
                                    ['redial_of_id'], ['id'])


def downgrade():
    with op.batch_alter_table('call_requests') as batch_op:
        batch_op.drop_constraint('fk_call_requests_redial_of_id', type_='foreignkey')
        batch_op.drop_constraint('uq_call_requests_attempt', type_='unique')
        batch_op.drop_index('ix_call_requests_redial_of_id')
        batch_op.drop_column('business_number')
        batch_op.drop_column('attempt_reason')
        batch_op.drop_column('attempt')
        batch_op.drop_column('redial_of_id')
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.drop_column('redial_interval_minutes')
        batch_op.drop_column('redial_attempts')
