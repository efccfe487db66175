"""The pending list's facts as columns: ``visits.pupil_name``, ``visits.emergency`` and an index in the list's order.

Revision ID: 0010
Revises: 0009

The pending review sorted and filtered on ``json_extract`` of every visit's
document; with these columns and the index it reads the first page in order.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
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
    # Plain ALTER TABLE ADD COLUMN on both backends: SQLite's batch mode would copy the table, which its foreign keys
    # (visit_events → visits) refuse once there are visits.
    op.add_column('visits', sa.Column('pupil_name', sa.String(), nullable=True))
    op.add_column('visits', sa.Column('emergency', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    op.create_index(op.f('ix_visits_state_emergency_planned_start_id'), 'visits',
                    ['state', 'emergency', 'planned_start', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_visits_state_emergency_planned_start_id'), table_name='visits')
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('emergency')
        batch.drop_column('pupil_name')
