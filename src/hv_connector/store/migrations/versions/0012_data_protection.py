"""Data protection: the access log, retention holds, and audit entries that hash their records.

Revision ID: 0012
Revises: 0010

Entries already in the audit log keep ``NULL`` in the new columns and verify as before;
``hvc audit seal`` records the current state of the records they describe.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json, UTCDateTime

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('origin', sa.String(), nullable=False),
        sa.Column('via', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('record_id', sa.String(), nullable=False),
        sa.Column('school_id', sa.String(), nullable=True),
        sa.Column('pupil_mis_id', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    )
    op.create_index(op.f('ix_access_log_school_id_pupil_mis_id_at'), 'access_log',
                    ['school_id', 'pupil_mis_id', 'at'], unique=False)
    op.create_table(
        'retention_holds',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('school_id', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('record_id', sa.String(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('placed_by', sa.String(), nullable=False),
        sa.Column('placed_at', UTCDateTime(), nullable=False),
        sa.Column('lifted_by', sa.String(), nullable=True),
        sa.Column('lifted_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_holds')),
    )
    op.create_index(op.f('ix_retention_holds_school_id_kind_record_id'), 'retention_holds',
                    ['school_id', 'kind', 'record_id'], unique=False)
    with op.batch_alter_table('audit') as batch:
        batch.add_column(sa.Column('detail_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('records', Json, nullable=True))
        batch.add_column(sa.Column('erased_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('audit') as batch:
        batch.drop_column('erased_at')
        batch.drop_column('records')
        batch.drop_column('detail_hash')
    op.drop_index(op.f('ix_retention_holds_school_id_kind_record_id'), table_name='retention_holds')
    op.drop_table('retention_holds')
    op.drop_index(op.f('ix_access_log_school_id_pupil_mis_id_at'), table_name='access_log')
    op.drop_table('access_log')
