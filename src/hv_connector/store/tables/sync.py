"""Sync bookkeeping: cursors, runs and the records set aside in quarantine."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from hv_connector.store.tables import metadata, school_id_column
from hv_connector.store.types import Json, UTCDateTime

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
    school_id_column(),
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
    school_id_column(),
    Column("resource", String, nullable=False),
    Column("record_id", String),
    Column("reason", Text, nullable=False),
    Column("payload", Json),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Index(None, "school_id", "resource", "record_id"),
)
