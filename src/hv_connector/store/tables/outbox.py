"""The CPOMS outbox: records waiting to be sent, sent, or parked."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from hv_connector.store.tables import metadata, school_id_column
from hv_connector.store.types import Json, UTCDateTime

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    school_id_column(),
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
    Column("doubt", Text),
    Column("doubt_checked_by", Text),
    Column("doubt_checked_at", UTCDateTime),
    Column("doubt_found", String),
    Index(None, "status", "priority", "next_attempt_at"),
)
"""``priority`` 0 is a safeguarding concern (sent first); larger numbers are routine. ``doubt`` (revision 0015):
why the receiver may hold the record twice (it was sent again after a lost answer, and nothing could tell whether
the first send was stored), the receiver's words neutralised; ``NULL`` when there is no such doubt. It stays once a
person has looked in CPOMS (``hvc outbox checked``): ``doubt_checked_by`` (their name), ``doubt_checked_at`` and
``doubt_found`` (``one``, or ``two`` and the extra merged) say so; ``NULL`` until then."""
