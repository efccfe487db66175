"""The initial store: every table of the store contract, and the audit chain's tip row.

Revision ID: 0001
Revises:

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hv_connector.store.types import Json, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('school_id', sa.String(), nullable=True),
    sa.Column('visit_id', sa.String(), nullable=True),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('state', sa.String(), nullable=True),
    sa.Column('detail', Json, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit'))
    )
    op.create_index(op.f('ix_audit_visit_id_seq'), 'audit', ['visit_id', 'seq'], unique=False)

    op.create_table('audit_tip',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_tip'))
    )
    # The chain starts empty: seq 0 and the genesis hash, which the first entry chains on.
    op.execute(sa.text("INSERT INTO audit_tip (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(genesis="0" * 64))
    op.create_table('heartbeats',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('detail', Json, nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeats'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('visit_id', sa.String(), nullable=True),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('payload', Json, nullable=False),
    sa.Column('idempotency_key', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('cpoms_id', sa.String(), nullable=True),
    sa.Column('alert_dsl', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    op.create_index(op.f('ix_outbox_status_priority_next_attempt_at'), 'outbox', ['status', 'priority', 'next_attempt_at'], unique=False)

    op.create_table('pupil_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_alerts'))
    )
    op.create_index(op.f('ix_pupil_alerts_school_id_pupil_mis_id'), 'pupil_alerts', ['school_id', 'pupil_mis_id'], unique=False)

    op.create_table('pupil_attendance',
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('period', sa.String(), nullable=False),
    sa.Column('possible', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=False),
    sa.Column('authorised', sa.Integer(), nullable=False),
    sa.Column('unauthorised', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('school_id', 'pupil_mis_id', 'period', name=op.f('pk_pupil_attendance'))
    )
    op.create_table('pupil_contacts',
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('contact_mis_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('relationship', sa.String(), nullable=True),
    sa.Column('parental_responsibility', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('lives_with_pupil', sa.Boolean(), nullable=False),
    sa.Column('no_contact', sa.Boolean(), nullable=False),
    sa.Column('court_order', sa.Boolean(), nullable=False),
    sa.Column('phones', Json, nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('address_text', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('school_id', 'pupil_mis_id', 'contact_mis_id', name=op.f('pk_pupil_contacts'))
    )
    op.create_table('pupil_medical',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_medical'))
    )
    op.create_index(op.f('ix_pupil_medical_school_id_pupil_mis_id'), 'pupil_medical', ['school_id', 'pupil_mis_id'], unique=False)

    op.create_table('pupil_sen',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=False),
    sa.Column('need', sa.String(), nullable=True),
    sa.Column('provision', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_sen'))
    )
    op.create_index(op.f('ix_pupil_sen_school_id_pupil_mis_id'), 'pupil_sen', ['school_id', 'pupil_mis_id'], unique=False)

    op.create_table('pupils',
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('mis_id', sa.String(), nullable=False),
    sa.Column('upn', sa.String(), nullable=True),
    sa.Column('forename', sa.String(), nullable=True),
    sa.Column('surname', sa.String(), nullable=True),
    sa.Column('display_name', sa.String(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('year_group', sa.String(), nullable=True),
    sa.Column('address', Json, nullable=True),
    sa.Column('address_text', sa.String(), nullable=True),
    sa.Column('phones', Json, nullable=True),
    sa.Column('mis_updated_at', UTCDateTime(), nullable=True),
    sa.Column('synced_at', UTCDateTime(), nullable=True),
    sa.Column('archived_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('school_id', 'mis_id', name=op.f('pk_pupils'))
    )
    op.create_index(op.f('ix_pupils_school_id_address_text'), 'pupils', ['school_id', 'address_text'], unique=False)
    op.create_index(op.f('ix_pupils_school_id_surname'), 'pupils', ['school_id', 'surname'], unique=False)

    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('resource', sa.String(), nullable=False),
    sa.Column('record_id', sa.String(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', Json, nullable=True),
    sa.Column('first_seen_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    op.create_index(op.f('ix_quarantine_school_id_resource_record_id'), 'quarantine', ['school_id', 'resource', 'record_id'], unique=False)

    op.create_table('schools',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('policy', sa.String(), nullable=False),
    sa.Column('mis_school_id', sa.String(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools'))
    )
    op.create_table('staff',
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('roles', Json, nullable=False),
    sa.Column('mobile', sa.String(), nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('dbs', sa.String(), nullable=True),
    sa.Column('dbs_checked_on', sa.Date(), nullable=True),
    sa.Column('cp_trained_on', sa.Date(), nullable=True),
    sa.Column('home_visit_trained', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('school_id', 'id', name=op.f('pk_staff'))
    )
    op.create_table('sync_cursors',
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('resource', sa.String(), nullable=False),
    sa.Column('updated_after', UTCDateTime(), nullable=True),
    sa.Column('last_run_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('school_id', 'resource', name=op.f('pk_sync_cursors'))
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Integer(), nullable=False),
    sa.Column('quarantined', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    op.create_index(op.f('ix_sync_runs_school_id_started_at'), 'sync_runs', ['school_id', 'started_at'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('school_id', sa.String(), nullable=False),
    sa.Column('pupil_mis_id', sa.String(), nullable=True),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('planned_start', UTCDateTime(), nullable=False),
    sa.Column('expected_return', UTCDateTime(), nullable=True),
    sa.Column('address_text', sa.String(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('staff_ids', Json, nullable=False),
    sa.Column('data', Json, nullable=False),
    sa.Column('code_word', sa.String(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    op.create_index(op.f('ix_visits_school_id_address_text'), 'visits', ['school_id', 'address_text'], unique=False)
    op.create_index(op.f('ix_visits_school_id_state'), 'visits', ['school_id', 'state'], unique=False)
    op.create_index(op.f('ix_visits_state_expected_return'), 'visits', ['state', 'expected_return'], unique=False)

    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.String(), nullable=False),
    sa.Column('rule_id', sa.String(), nullable=False),
    sa.Column('by', sa.String(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_acknowledgements_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgements'))
    )
    op.create_index(op.f('ix_acknowledgements_visit_id'), 'acknowledgements', ['visit_id'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('fired_at', UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(), nullable=True),
    sa.Column('acknowledged_at', UTCDateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_escalations_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('key', name=op.f('uq_escalations_key'))
    )
    op.create_index(op.f('ix_escalations_visit_id'), 'escalations', ['visit_id'], unique=False)

    op.create_table('overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.String(), nullable=False),
    sa.Column('rule_id', sa.String(), nullable=False),
    sa.Column('by', sa.String(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_overrides_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overrides'))
    )
    op.create_index(op.f('ix_overrides_visit_id'), 'overrides', ['visit_id'], unique=False)

    op.create_table('visit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.String(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=True),
    sa.Column('event', sa.String(), nullable=False),
    sa.Column('from_state', sa.String(), nullable=True),
    sa.Column('to_state', sa.String(), nullable=True),
    sa.Column('stage', sa.String(), nullable=True),
    sa.Column('findings', Json, nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_events_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_events'))
    )
    op.create_index(op.f('ix_visit_events_visit_id'), 'visit_events', ['visit_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('notifier', sa.String(), nullable=False),
    sa.Column('recipient', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_notifications_escalation_id_escalations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index(op.f('ix_notifications_escalation_id'), 'notifications', ['escalation_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_notifications_escalation_id'), table_name='notifications')

    op.drop_table('notifications')
    op.drop_index(op.f('ix_visit_events_visit_id'), table_name='visit_events')

    op.drop_table('visit_events')
    op.drop_index(op.f('ix_overrides_visit_id'), table_name='overrides')

    op.drop_table('overrides')
    op.drop_index(op.f('ix_escalations_visit_id'), table_name='escalations')

    op.drop_table('escalations')
    op.drop_index(op.f('ix_acknowledgements_visit_id'), table_name='acknowledgements')

    op.drop_table('acknowledgements')
    op.drop_index(op.f('ix_visits_state_expected_return'), table_name='visits')
    op.drop_index(op.f('ix_visits_school_id_state'), table_name='visits')
    op.drop_index(op.f('ix_visits_school_id_address_text'), table_name='visits')

    op.drop_table('visits')
    op.drop_index(op.f('ix_sync_runs_school_id_started_at'), table_name='sync_runs')

    op.drop_table('sync_runs')
    op.drop_table('sync_cursors')
    op.drop_table('staff')
    op.drop_table('schools')
    op.drop_index(op.f('ix_quarantine_school_id_resource_record_id'), table_name='quarantine')

    op.drop_table('quarantine')
    op.drop_index(op.f('ix_pupils_school_id_surname'), table_name='pupils')
    op.drop_index(op.f('ix_pupils_school_id_address_text'), table_name='pupils')

    op.drop_table('pupils')
    op.drop_index(op.f('ix_pupil_sen_school_id_pupil_mis_id'), table_name='pupil_sen')

    op.drop_table('pupil_sen')
    op.drop_index(op.f('ix_pupil_medical_school_id_pupil_mis_id'), table_name='pupil_medical')

    op.drop_table('pupil_medical')
    op.drop_table('pupil_contacts')
    op.drop_table('pupil_attendance')
    op.drop_index(op.f('ix_pupil_alerts_school_id_pupil_mis_id'), table_name='pupil_alerts')

    op.drop_table('pupil_alerts')
    op.drop_index(op.f('ix_outbox_status_priority_next_attempt_at'), table_name='outbox')

    op.drop_table('outbox')
    op.drop_table('heartbeats')
    op.drop_table('audit_tip')
    op.drop_index(op.f('ix_audit_visit_id_seq'), table_name='audit')

    op.drop_table('audit')
