"""Why a record sent may be in CPOMS twice, kept on its row: ``outbox.doubt``.

Revision ID: 0015
Revises: 0014

When the CPOMS client sends a record again after a lost answer and cannot tell whether the first send was
stored, the push said so only in its output and log: the row said plain ``sent``, and nobody reading the
outbox next morning knew to look in CPOMS for a second copy. Rows written before keep ``NULL``.

Once a person has looked (``hvc outbox checked``), ``doubt_checked_by``, ``doubt_checked_at`` and ``doubt_found``
say who, when and what they found, and the doubt stays for the record's history; ``NULL`` until then.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import UTCDateTime

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('outbox', sa.Column('doubt', sa.Text(), nullable=True))
    op.add_column('outbox', sa.Column('doubt_checked_by', sa.Text(), nullable=True))
    op.add_column('outbox', sa.Column('doubt_checked_at', UTCDateTime(), nullable=True))
    op.add_column('outbox', sa.Column('doubt_found', sa.String(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox') as batch:
        for column in ('doubt_found', 'doubt_checked_at', 'doubt_checked_by', 'doubt'):
            batch.drop_column(column)
