"""Sync cursors opaque to the core: the adapter's own text (a time, a revision number …) and the adapter's name.

Revision ID: 0006
Revises: 0005

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import UTCDateTime

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before this revision every cursor was a time from the Wonde adapter, the only one there was: keep it as the
# ISO 8601 text that adapter now reads (``2026-11-20T07:30:00.000000+00:00``), in plain SQL so the offline script
# (``hvc db upgrade --sql``) converts it too. SQLite holds the UTC time as ``2026-11-20 07:30:00.000000``.
_TO_TEXT = {
    "sqlite": "replace(updated_after, ' ', 'T') || '+00:00'",
    "postgresql": "to_char(updated_after AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'",
}
_TO_TIME = {
    "sqlite": "replace(substr(position, 1, 26), 'T', ' ')",
    "postgresql": "CAST(position AS TIMESTAMP WITH TIME ZONE)",
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sync_cursors') as batch:
        batch.add_column(sa.Column('adapter', sa.String(), nullable=True))
        batch.add_column(sa.Column('position', sa.String(), nullable=True))
    dialect = op.get_context().dialect.name
    op.execute(f"UPDATE sync_cursors SET adapter = 'wonde', position = {_TO_TEXT[dialect]} "
               "WHERE updated_after IS NOT NULL")
    op.execute("UPDATE sync_cursors SET adapter = 'wonde' WHERE adapter IS NULL")
    with op.batch_alter_table('sync_cursors') as batch:
        batch.drop_column('updated_after')


def downgrade() -> None:
    """Downgrade schema: only the Wonde adapter's time cursors come back; any other adapter's are dropped."""
    with op.batch_alter_table('sync_cursors') as batch:
        batch.add_column(sa.Column('updated_after', UTCDateTime(), nullable=True))
    dialect = op.get_context().dialect.name
    op.execute(f"UPDATE sync_cursors SET updated_after = {_TO_TIME[dialect]} "
               "WHERE adapter = 'wonde' AND position IS NOT NULL")
    op.execute("DELETE FROM sync_cursors WHERE adapter != 'wonde'")
    with op.batch_alter_table('sync_cursors') as batch:
        batch.drop_column('position')
        batch.drop_column('adapter')
