"""The tamper-evident audit log and its tip."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from hv_connector.store.tables import metadata
from hv_connector.store.types import Json, UTCDateTime

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
    Column("detail_hash", String(64)),
    Column("records", Json),
    Column("erased_at", UTCDateTime),
    Index(None, "visit_id", "seq"),
)
"""Append only through :func:`hv_connector.store.audit.append`; ``seq`` runs 1, 2, 3… with no gaps.

Revision 0012: ``detail_hash`` is the hash of ``detail``, and the chain covers it instead of the detail
itself, so a retention run can erase the detail (``erased_at``) and the chain still verifies;
``records`` is the hash of each record the entry describes, as it stood when the entry was written
(:mod:`hv_connector.store.records`). Both are ``NULL`` on entries written before 0012."""

audit_tip = Table(
    "audit_tip",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""One row (id 1): the last seq and hash. Appends lock it, so the chain has one writer at a time,
and verify compares it with the last row, so cutting rows off the end shows."""
