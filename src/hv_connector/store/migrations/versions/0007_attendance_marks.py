"""Session marks per pupil, for attendance figures the DfE way.

Revision ID: 0007
Revises: 0006

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'pupil_session_marks',
        sa.Column('school_id', sa.String(), nullable=False),
        sa.Column('pupil_mis_id', sa.String(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('session', sa.String(length=2), nullable=False),
        sa.Column('code', sa.String(), nullable=False),
        sa.Column('meaning', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('school_id', 'pupil_mis_id', 'day', 'session', name=op.f('pk_pupil_session_marks')),
    )
    op.create_index(op.f('ix_pupil_session_marks_school_id_day'), 'pupil_session_marks', ['school_id', 'day'],
                    unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_pupil_session_marks_school_id_day'), table_name='pupil_session_marks')
    op.drop_table('pupil_session_marks')
