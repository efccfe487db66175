"""The escalation episode each event belongs to, in its own column beside the key.

Revision ID: 0003
Revises: 0002

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Events fired before this revision carry their episode only inside the key: ``<visit>/<episode>/step/<n>``, or
# ``<visit>/<episode>/exhausted`` for the chain running out (reminders have none). Cut it out once, in plain SQL,
# so the offline script (``hvc db upgrade --sql``) fills it too.
_BACKFILL = """
UPDATE escalations SET episode = substr(
    key, length(visit_id) + 2,
    length(key) - length(visit_id) - 1
    - length(CASE WHEN kind = 'chain-exhausted' THEN '/exhausted' ELSE '/step/' || CAST(step_index AS VARCHAR) END))
WHERE kind != 'checkin-reminder'
"""


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('escalations') as batch:
        batch.add_column(sa.Column('episode', sa.String(), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('escalations') as batch:
        batch.drop_column('episode')
