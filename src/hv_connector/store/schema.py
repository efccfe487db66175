"""The store's tables, as SQLAlchemy Core :class:`~sqlalchemy.Table` objects.

Everyone reads and writes these with SQLAlchemy Core
(``from hv_connector.store.schema import visits, audit``); they are defined
one module per pipeline in :mod:`hv_connector.store.tables`, and gathered here
so that :data:`metadata` holds every table. A change to a table
here needs a new Alembic revision in ``store/migrations/versions`` chained on
the current head; never edit a migration already committed.

Ids are strings unless noted; everything that belongs to a school carries
``school_id``. Times are :class:`~hv_connector.store.types.UTCDateTime`
(aware, stored as UTC; show them in Europe/London).
"""

from __future__ import annotations

from hv_connector.store.tables import NAMING_CONVENTION, metadata
from hv_connector.store.tables.audit import audit, audit_tip
from hv_connector.store.tables.outbox import outbox
from hv_connector.store.tables.people import (
    pupil_alerts,
    pupil_attendance,
    pupil_contacts,
    pupil_medical,
    pupil_restrictions,
    pupil_sen,
    pupil_session_marks,
    pupils,
    schools,
    staff,
)
from hv_connector.store.tables.privacy import access_log, retention_holds
from hv_connector.store.tables.proposals import proposal_runs, proposals
from hv_connector.store.tables.sync import quarantine, sync_cursors, sync_runs
from hv_connector.store.tables.visits import acknowledgements, overrides, visit_events, visits
from hv_connector.store.tables.watch import HEARTBEAT, WATCH_PREFIX, escalations, heartbeats, notifications, watch_queue

__all__ = [
    "HEARTBEAT", "NAMING_CONVENTION", "WATCH_PREFIX", "access_log", "acknowledgements", "audit", "audit_tip", "escalations",
    "heartbeats", "metadata", "notifications", "outbox", "overrides", "pupil_alerts", "pupil_attendance",
    "proposal_runs", "proposals", "pupil_contacts", "pupil_medical", "pupil_restrictions", "pupil_sen",
    "pupil_session_marks", "pupils",
    "quarantine", "retention_holds", "schools", "staff", "sync_cursors", "sync_runs", "visit_events", "visits",
    "watch_queue",
]
