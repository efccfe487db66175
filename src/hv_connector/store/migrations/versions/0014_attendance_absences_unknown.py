"""A pupil's absences may be unknown: ``pupil_attendance.authorised`` and ``unauthorised`` nullable.

Revision ID: 0014
Revises: 0013

Wonde documents only "absence marks"; the names we read are guesses. A summary without them was stored
as 0 absences, so a pupil whose absences are not known looked like one with none. Null now says "not
known". Rows stored before keep their figures until the next sync reads the summary again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ABSENCES = ('authorised', 'unauthorised')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('pupil_attendance') as batch:
        for column in ABSENCES:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Downgrade schema."""
    # A figure with unknown absences is dropped, not made 0: the briefing then says the summary is missing.
    op.execute("DELETE FROM pupil_attendance WHERE authorised IS NULL OR unauthorised IS NULL")
    with op.batch_alter_table('pupil_attendance') as batch:
        for column in ABSENCES:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=False)
