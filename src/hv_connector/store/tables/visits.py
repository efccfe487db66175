"""Visits and what happens to them: events, acknowledged warnings, overridden blocks."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, false

from hv_connector.store.tables import metadata, school_id_column
from hv_connector.store.types import Json, UTCDateTime

visits = Table(
    "visits",
    metadata,
    Column("id", String, primary_key=True),
    school_id_column(),
    Column("pupil_mis_id", String),
    Column("state", String, nullable=False),
    Column("planned_start", UTCDateTime, nullable=False),
    Column("expected_return", UTCDateTime),
    Column("address_text", String),
    Column("reason", String),
    Column("staff_ids", Json, nullable=False, default=list),
    Column("data", Json, nullable=False),
    Column("data_hash", String),
    Column("code_word", String),
    Column("timetable", Json),
    Column("timetable_shared", Text),
    Column("pupil_name", String),
    Column("emergency", Boolean, nullable=False, server_default=false()),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "school_id", "state"),
    Index(None, "state", "expected_return"),
    Index(None, "school_id", "address_text"),
    Index(None, "state", "emergency", "planned_start", "id"),
)
"""``data`` is the Visit model dumped WITHOUT the code word, which lives in ``code_word`` alone.

``timetable`` (revision 0008) is what the watch reads of a visit it looks after: its times and check-ins;
``timetable_shared``, as JSON text, the plan and chain its school's policy gave and the visiting staff (see
:mod:`hv_connector.visits.timetable`). Both ``NULL`` before the visit is signed out, and for a visit the
watch must still work out from ``data``.

``data_hash`` (revision 0013) is the digest of ``data`` (:func:`hv_connector.store.hashing.digest`), written with it,
for the audit log's record hashes (:mod:`hv_connector.store.records`); ``NULL`` on a visit written before.

``pupil_name`` and ``emergency`` (revision 0010) are the visit's own pupil name and emergency flag, kept beside
``data`` so the pending list filters and sorts on columns, in the order of its index."""

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

def _rule_decision(name: str, words: Column[str]) -> Table:
    """Staff's decision on one rule's finding for a visit: which rule, who, when, and ``words`` (what they wrote)."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("visit_id", String, ForeignKey("visits.id"), nullable=False, index=True),
        Column("rule_id", String, nullable=False),
        Column("by", String, nullable=False),
        Column("at", UTCDateTime, nullable=False),
        words,
    )


acknowledgements = _rule_decision("acknowledgements", Column("note", Text))
"""Warnings an authoriser acknowledged."""
overrides = _rule_decision("overrides", Column("reason", Text, nullable=False))
"""Blocks an authoriser overrode, each with its reason."""
