"""Data protection: who read what (the access log) and the records a retention run must keep (holds)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hv_connector.store.tables import metadata
from hv_connector.store.types import UTCDateTime

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String, nullable=False),
    Column("origin", String, nullable=False),
    Column("via", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("record_id", String, nullable=False),
    Column("school_id", String),
    Column("pupil_mis_id", String),
    Index(None, "school_id", "pupil_mis_id", "at"),
)
"""One row per record shown to a person (revision 0012): who (``actor``), from where (``origin``: the SSH
client or the local terminal), through what (``via``: the command or dashboard screen), what (``kind``
pupil, visit or outbox, and ``record_id``) and whose (the pupil it is about). Written in batches by
:mod:`hv_connector.store.access`."""

retention_holds = Table(
    "retention_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("school_id", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("record_id", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String, nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("lifted_by", String),
    Column("lifted_at", UTCDateTime),
    Index(None, "school_id", "kind", "record_id"),
)
"""A hold on a pupil or a visit (revision 0012): while ``lifted_at`` is ``NULL`` no retention schedule
removes it (for example a record that may concern an allegation of abuse)."""
