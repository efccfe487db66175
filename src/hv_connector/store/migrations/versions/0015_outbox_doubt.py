"""Why a record sent may be in CPOMS twice, kept on its row: ``outbox.doubt``.

Revision ID: 0015
Revises: 0014

When the CPOMS client sends a record again after a lost answer and cannot tell whether the first send was
stored, the push said so only in its output and log: the row said plain ``sent``, and nobody reading the
outbox next morning knew to look in CPOMS for a second copy. Rows written before keep ``NULL``.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('outbox', sa.Column('doubt', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('doubt')
