"""Pupils' identifiers kept apart (feed id, MIS id, UPI, UPN), unknown contact flags, the school's restrictions.

Revision ID: 0005
Revises: 0004

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json, UTCDateTime

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = ('parental_responsibility', 'lives_with_pupil', 'no_contact', 'court_order')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('pupils') as batch:
        batch.add_column(sa.Column('source_id', sa.String(), nullable=True))
        batch.add_column(sa.Column('native_id', sa.String(), nullable=True))
        batch.add_column(sa.Column('upi', sa.String(), nullable=True))
        batch.add_column(sa.Column('gaps', Json, nullable=True))
        batch.create_index(batch.f('ix_pupils_school_id_source_id'), ['school_id', 'source_id'], unique=False)
        batch.create_index(batch.f('ix_pupils_school_id_upn'), ['school_id', 'upn'], unique=False)
        batch.create_index(batch.f('ix_pupils_school_id_upi'), ['school_id', 'upi'], unique=False)
    # Until now the key was the feed's record id itself.
    op.execute("UPDATE pupils SET source_id = mis_id")
    with op.batch_alter_table('pupil_contacts') as batch:
        for flag in FLAGS:  # null is "not shared by the school", no longer read as "no"
            batch.alter_column(flag, existing_type=sa.Boolean(), nullable=True)
    op.create_table('pupil_restrictions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('person', sa.String(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(), nullable=False),
    sa.Column('added_at', UTCDateTime(), nullable=False),
    sa.Column('removed_by', sa.String(), nullable=True),
    sa.Column('removed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_restrictions'))
    )
    op.create_index(op.f('ix_pupil_restrictions_school_id_pupil_mis_id'), 'pupil_restrictions',
                    ['school_id', 'pupil_mis_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_pupil_restrictions_school_id_pupil_mis_id'), table_name='pupil_restrictions')
    op.drop_table('pupil_restrictions')
    op.execute("UPDATE pupil_contacts SET " + ", ".join(f"{f} = COALESCE({f}, false)" for f in FLAGS))
    with op.batch_alter_table('pupil_contacts') as batch:
        for flag in FLAGS:
            batch.alter_column(flag, existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table('pupils') as batch:
        batch.drop_index(batch.f('ix_pupils_school_id_upi'))
        batch.drop_index(batch.f('ix_pupils_school_id_upn'))
        batch.drop_index(batch.f('ix_pupils_school_id_source_id'))
        batch.drop_column('gaps')
        batch.drop_column('upi')
        batch.drop_column('native_id')
        batch.drop_column('source_id')
