"""The watch: what each escalation said and to whom, the queue of visits to look at next, undelivered notifications.

Revision ID: 0002
Revises: 0001

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json, UTCDateTime

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('escalations') as batch:
        batch.add_column(sa.Column('school_id', sa.String(), nullable=True))
        batch.add_column(sa.Column('who', Json, nullable=True))
        batch.add_column(sa.Column('message', sa.Text(), nullable=True))
    op.create_table('watch_queue',
    sa.Column('visit_id', sa.String(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_watch_queue_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_watch_queue'))
    )
    op.create_index(op.f('ix_watch_queue_due_at'), 'watch_queue', ['due_at'], unique=False)
    op.create_index(op.f('ix_notifications_status'), 'notifications', ['status'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_notifications_status'), table_name='notifications')
    op.drop_index(op.f('ix_watch_queue_due_at'), table_name='watch_queue')
    op.drop_table('watch_queue')
    with op.batch_alter_table('escalations') as batch:
        batch.drop_column('message')
        batch.drop_column('who')
        batch.drop_column('school_id')
