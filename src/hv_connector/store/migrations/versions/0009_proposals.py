"""Visits proposed from attendance: ``proposals`` and ``proposal_runs``.

Revision ID: 0009
Revises: 0008

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json, UTCDateTime

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'proposals',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('school_id', sa.String(), nullable=False),
        sa.Column('pupil_mis_id', sa.String(), nullable=False),
        sa.Column('trigger_id', sa.String(), nullable=False),
        sa.Column('trigger', Json, nullable=False),
        sa.Column('figures', Json, nullable=False),
        sa.Column('urgency', sa.Integer(), nullable=False),
        sa.Column('first_met_at', UTCDateTime, nullable=False),
        sa.Column('last_met_at', UTCDateTime, nullable=False),
        sa.Column('met_until', UTCDateTime, nullable=True),
        sa.Column('recent_visit', Json, nullable=True),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('decided_by', sa.String(), nullable=True),
        sa.Column('decided_at', UTCDateTime, nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('visit_id', sa.String(), nullable=True),
        sa.Column('closed_reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    )
    op.create_index(op.f('ix_proposals_school_id_status'), 'proposals', ['school_id', 'status'])
    op.create_index(op.f('ix_proposals_school_id_pupil_mis_id_trigger_id'), 'proposals',
                    ['school_id', 'pupil_mis_id', 'trigger_id'])
    op.create_table(
        'proposal_runs',
        sa.Column('school_id', sa.String(), nullable=False),
        sa.Column('evaluated_at', UTCDateTime, nullable=False),
        sa.Column('pupils', sa.Integer(), nullable=False),
        sa.Column('unavailable', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('school_id', name=op.f('pk_proposal_runs')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('proposal_runs')
    op.drop_index(op.f('ix_proposals_school_id_pupil_mis_id_trigger_id'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_school_id_status'), table_name='proposals')
    op.drop_table('proposals')
