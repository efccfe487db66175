"""The digest of each visit's document beside it: ``visits.data_hash``.

Revision ID: 0013
Revises: 0012

An audit entry about a visit hashes every record about it; the visit's own
record took the whole document, hashed afresh on every entry. Written with the
document, the digest stands in for it there (``hvc audit verify`` still hashes
the document itself). Visits written before keep ``NULL``: their document is
hashed when an entry needs it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ALTER TABLE ADD COLUMN: SQLite's batch mode would copy the table, which its foreign keys refuse.
    op.add_column('visits', sa.Column('data_hash', sa.String(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('data_hash')
