"""Visits proposed from attendance (revision 0009), and each school's last evaluation of its triggers."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hv_connector.store.tables import metadata, school_id_column
from hv_connector.store.types import Json, UTCDateTime

proposals = Table(
    "proposals",
    metadata,
    Column("id", String, primary_key=True),
    school_id_column(),
    Column("pupil_mis_id", String, nullable=False),
    Column("trigger_id", String, nullable=False),
    Column("trigger", Json, nullable=False),
    Column("figures", Json, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("first_met_at", UTCDateTime, nullable=False),
    Column("last_met_at", UTCDateTime, nullable=False),
    Column("met_until", UTCDateTime),
    Column("recent_visit", Json),
    Column("status", String, nullable=False),
    Column("decided_by", String),
    Column("decided_at", UTCDateTime),
    Column("note", Text),
    Column("visit_id", String),
    Column("closed_reason", Text),
    Index(None, "school_id", "status"),
    Index(None, "school_id", "pupil_mis_id", "trigger_id"),
)
"""One row per time a pupil began to meet a trigger. ``trigger`` is the trigger as it stood (its clause, what it
proposes); ``figures`` the measures behind it, refreshed while it is met. ``status``: ``open`` (on the worklist),
``accepted`` (``visit_id`` is the visit requested), ``dismissed`` (``note`` says why) or ``closed`` (the pupil no
longer met it while open; ``closed_reason``). ``met_until`` is set when the pupil stops meeting it: until then no
second row is made for the same pupil and trigger. ``recent_visit`` is the pupil's latest visit within the school's
``recent_visit_days``, so the list says so rather than propose a visit blindly."""

proposal_runs = Table(
    "proposal_runs",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("evaluated_at", UTCDateTime, nullable=False),
    Column("pupils", Integer, nullable=False),
    Column("unavailable", Text),
)
"""The school's last evaluation: when, how many pupils had attendance, and why none could be evaluated (``NULL``:
they could)."""
