"""The store's tables, as SQLAlchemy Core :class:`~sqlalchemy.Table` objects.

Everyone reads and writes these with SQLAlchemy Core
(``from hv_connector.store.schema import visits, audit``). A change to a table
here needs a new Alembic revision in ``store/migrations/versions`` chained on
the current head; never edit a migration already committed.

Ids are strings unless noted; everything that belongs to a school carries
``school_id``. Times are :class:`~hv_connector.store.types.UTCDateTime`
(aware, stored as UTC; show them in Europe/London).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hv_connector.store.types import Json, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so migrations can alter them on SQLite (batch mode) and PostgreSQL alike."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

def _school_id() -> Column[str]:
    return Column("school_id", String, nullable=False)


# --- schools, staff and the pupils' background (filled by sync) ------------------------------

schools = Table(
    "schools",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("policy", String, nullable=False),
    Column("mis_school_id", String),
    Column("updated_at", UTCDateTime),
)

staff = Table(
    "staff",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("roles", Json, nullable=False, default=list),
    Column("mobile", String),
    Column("email", String),
    Column("dbs", String),
    Column("dbs_checked_on", Date),
    Column("cp_trained_on", Date),
    Column("home_visit_trained", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
)

pupils = Table(
    "pupils",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("mis_id", String, primary_key=True),
    Column("upn", String),
    Column("forename", String),
    Column("surname", String),
    Column("display_name", String),
    Column("date_of_birth", Date),
    Column("year_group", String),
    Column("address", Json),
    Column("address_text", String),
    Column("phones", Json),
    Column("mis_updated_at", UTCDateTime),
    Column("synced_at", UTCDateTime),
    Column("archived_at", UTCDateTime),
    Index(None, "school_id", "surname"),
    Index(None, "school_id", "address_text"),
)

pupil_contacts = Table(
    "pupil_contacts",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("contact_mis_id", String, primary_key=True),
    Column("name", String),
    Column("relationship", String),
    Column("parental_responsibility", Boolean, nullable=False, default=False),
    Column("priority", Integer),
    Column("lives_with_pupil", Boolean, nullable=False, default=False),
    Column("no_contact", Boolean, nullable=False, default=False),
    Column("court_order", Boolean, nullable=False, default=False),
    Column("phones", Json),
    Column("email", String),
    Column("address_text", String),
)

def _pupil_detail(name: str, label: str, text: str) -> Table:
    """A list of one kind of background per pupil (medical needs, SEN, alerts): a short label and its text."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _school_id(),
        Column("pupil_mis_id", String, nullable=False),
        Column(label, String),
        Column(text, Text),
        Index(None, "school_id", "pupil_mis_id"),
    )


pupil_medical = _pupil_detail("pupil_medical", "kind", "description")
pupil_sen = _pupil_detail("pupil_sen", "need", "provision")
pupil_alerts = _pupil_detail("pupil_alerts", "kind", "text")
"""Court orders, no-contact orders and other alerts."""

pupil_attendance = Table(
    "pupil_attendance",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("period", String, primary_key=True),
    Column("possible", Integer, nullable=False, default=0),
    Column("attended", Integer, nullable=False, default=0),
    Column("authorised", Integer, nullable=False, default=0),
    Column("unauthorised", Integer, nullable=False, default=0),
)

# --- visits and what happens to them -----------------------------------------------------------

visits = Table(
    "visits",
    metadata,
    Column("id", String, primary_key=True),
    _school_id(),
    Column("pupil_mis_id", String),
    Column("state", String, nullable=False),
    Column("planned_start", UTCDateTime, nullable=False),
    Column("expected_return", UTCDateTime),
    Column("address_text", String),
    Column("reason", String),
    Column("staff_ids", Json, nullable=False, default=list),
    Column("data", Json, nullable=False),
    Column("code_word", String),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "school_id", "state"),
    Index(None, "state", "expected_return"),
    Index(None, "school_id", "address_text"),
)
"""``data`` is the Visit model dumped WITHOUT the code word, which lives in ``code_word`` alone."""

visit_events = Table(
    "visit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, ForeignKey("visits.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String),
    Column("event", String, nullable=False),
    Column("from_state", String),
    Column("to_state", String),
    Column("stage", String),
    Column("findings", Json),
    Column("note", Text),
)

acknowledgements = Table(
    "acknowledgements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, ForeignKey("visits.id"), nullable=False, index=True),
    Column("rule_id", String, nullable=False),
    Column("by", String, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text),
)

overrides = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, ForeignKey("visits.id"), nullable=False, index=True),
    Column("rule_id", String, nullable=False),
    Column("by", String, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
)

# --- CPOMS outbox --------------------------------------------------------------------------------

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _school_id(),
    Column("visit_id", String),
    Column("kind", String, nullable=False),
    Column("priority", Integer, nullable=False, default=1),
    Column("payload", Json, nullable=False),
    Column("idempotency_key", String, nullable=False, unique=True),
    Column("status", String, nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("cpoms_id", String),
    Column("alert_dsl", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "status", "priority", "next_attempt_at"),
)
"""``priority`` 0 is a safeguarding concern (sent first); larger numbers are routine."""

# --- the tamper-evident audit log ----------------------------------------------------------------

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("school_id", String),
    Column("visit_id", String),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("state", String),
    Column("detail", Json, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "visit_id", "seq"),
)
"""Append only through :func:`hv_connector.store.audit.append`; ``seq`` runs 1, 2, 3… with no gaps."""

audit_tip = Table(
    "audit_tip",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""One row (id 1): the last seq and hash. Appends lock it, so the chain has one writer at a time,
and verify compares it with the last row, so cutting rows off the end shows."""

# --- sync ------------------------------------------------------------------------------------------

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("resource", String, primary_key=True),
    Column("adapter", String),
    Column("position", String),
    Column("last_run_at", UTCDateTime),
)
"""Where each school's next sync of a resource starts: ``position`` is the MIS adapter's own cursor (a time, a
revision number …), opaque to the core, and ``adapter`` the adapter that gave it."""

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _school_id(),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String, nullable=False),
    Column("added", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("archived", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("seconds", Float),
    Column("message", Text),
    Index(None, "school_id", "started_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _school_id(),
    Column("resource", String, nullable=False),
    Column("record_id", String),
    Column("reason", Text, nullable=False),
    Column("payload", Json),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Index(None, "school_id", "resource", "record_id"),
)

# --- watch: escalations, notifications, heartbeats ------------------------------------------------

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, ForeignKey("visits.id"), nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("step_index", Integer, nullable=False, default=0),
    Column("key", String, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime),
    Column("acknowledged_by", String),
    Column("acknowledged_at", UTCDateTime),
    Column("note", Text),
    Column("closed_at", UTCDateTime),
    Column("school_id", String),
    Column("who", Json),
    Column("message", Text),
    Column("episode", String),
    Column("stood_down_by", String),
    Column("escalated_by", String),
    UniqueConstraint("key"),
)
"""One row per fired event; the unique ``key`` is what makes an event fire once.

``who`` (roles reached) and ``message`` (what they read: never the code word)
are written by the watch (revision 0002) so the board and retries show exactly
what was sent. ``kind``, ``step_index`` and ``episode`` (revision 0003; ``NULL``
for a reminder) say what the event is, so nothing reads it back out of ``key``.
``stood_down_by`` (revision 0004) is the staff id of the person who said staff
are safe (the event closed at ``closed_at``), and ``escalated_by`` the one who
fired this step early; the watch acts on these columns, never on ``note``, which
is only what people typed."""

watch_queue = Table(
    "watch_queue",
    metadata,
    Column("visit_id", String, ForeignKey("visits.id"), primary_key=True),
    Column("due_at", UTCDateTime, nullable=False, index=True),
)
"""When the watch must next look at a visit: a tick reads only rows with ``due_at <= now``."""

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("escalation_id", Integer, ForeignKey("escalations.id"), nullable=False, index=True),
    Column("notifier", String, nullable=False),
    Column("recipient", String),
    Column("status", String, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Column("claimed_by", String),
    Column("lease_until", UTCDateTime),
    Index(None, "status"),
)
"""One row per notifier and address an escalation went to; the watch retries ``pending``/``retrying`` rows.

A watch claims a row (``status`` ``sending``, ``claimed_by`` ``watch:<host>:<pid>``,
``lease_until``; revision 0004) just before it sends it, and records ``sent``
right after, so a crash leaves at most that one message to be sent again."""

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Json),
)
HEARTBEAT = "watch"
"""The :data:`heartbeats` row the watch writes each tick; here so ``hvc status`` reads it without the watch's imports.

It is shared by every watch on the store (it holds the cursor of changes read)."""
WATCH_PREFIX = "watch:"
"""Each running watch also beats in its own row, ``watch:<host>:<pid>``, so ``hvc status`` can list each one alive."""
