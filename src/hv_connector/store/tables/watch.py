"""The watch's tables: escalations, when to look at a visit next, notifications and heartbeats."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from hv_connector.store.tables import metadata
from hv_connector.store.types import Json, UTCDateTime

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
