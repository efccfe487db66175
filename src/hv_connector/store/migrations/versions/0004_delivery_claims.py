"""Notifications claimed one by one before they are sent; stand-downs and escalations by people as columns.

Revision ID: 0004
Revises: 0003

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import UTCDateTime

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before this revision a stand-down was only the words of its note. The audit entry written in the same
# transaction says who did it, at the very moment the events closed: take the actor from there, never the note,
# so an acknowledgement whose note happens to begin "stood down by" stays an acknowledgement.
_BACKFILL = """
UPDATE escalations SET stood_down_by = (
    SELECT audit.actor FROM audit
    WHERE audit.action = 'escalation.stand-down' AND audit.visit_id = escalations.visit_id
      AND audit.at = escalations.closed_at
    ORDER BY audit.seq LIMIT 1)
WHERE closed_at IS NOT NULL
"""


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(), nullable=True))
        batch.add_column(sa.Column('lease_until', UTCDateTime(), nullable=True))
    with op.batch_alter_table('escalations') as batch:
        batch.add_column(sa.Column('stood_down_by', sa.String(), nullable=True))
        batch.add_column(sa.Column('escalated_by', sa.String(), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('escalations') as batch:
        batch.drop_column('escalated_by')
        batch.drop_column('stood_down_by')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('lease_until')
        batch.drop_column('claimed_by')
