"""What the watch reads of a visit out, compact: ``visits.timetable`` and ``visits.timetable_shared``.

Revision ID: 0008
Revises: 0007

Visits already out keep ``NULL``: the watch works theirs out once from the
whole visit and stores it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('timetable', Json, nullable=True))
        batch.add_column(sa.Column('timetable_shared', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('timetable_shared')
        batch.drop_column('timetable')
