"""The pending list's facts as columns: ``visits.pupil_name``, ``visits.emergency`` and an index in the list's order.

Revision ID: 0010
Revises: 0008

The pending review sorted and filtered on ``json_extract`` of every visit's
document; with these columns and the index it reads the first page in order.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "sqlite": "UPDATE visits SET pupil_name = json_extract(data, '$.pupil.name'), "
              "emergency = COALESCE(json_extract(data, '$.emergency'), 0)",
    "postgresql": "UPDATE visits SET pupil_name = data->'pupil'->>'name', "
                  "emergency = COALESCE((data->>'emergency')::boolean, false)",
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('pupil_name', sa.String(), nullable=True))
        batch.add_column(sa.Column('emergency', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index(batch.f('ix_visits_state_emergency_planned_start_id'),
                           ['state', 'emergency', 'planned_start', 'id'], unique=False)
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('visits') as batch:
        batch.drop_index(batch.f('ix_visits_state_emergency_planned_start_id'))
        batch.drop_column('emergency')
        batch.drop_column('pupil_name')
