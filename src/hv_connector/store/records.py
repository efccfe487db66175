"""Record hashes: the state of every record about a visit, hashed row by row, for the audit log to carry.

When an audit entry about a visit is written, :func:`snapshot` hashes, in the
same transaction, the columns that matter of each row about that visit: the
visit itself, its events, acknowledged warnings, overridden blocks, outbox
records (the text CPOMS gets) and escalation decisions (who acknowledged,
stood down or escalated). The entry carries ``{"visit V1": hash, "event 17":
hash, …}``, chained like the rest of it. ``hvc audit verify`` takes each
visit's latest snapshot and hashes the rows as they are now (:func:`compare`):
a row edited since, deleted, or added with no audit entry is named.

Columns that change without a person deciding anything (the outbox's delivery
status and attempts, the watch's cached timetable, ``updated_at``) are left
out: they are not what the audit log vouches for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, select

from hv_connector.store.hashing import digest
from hv_connector.store.schema import acknowledgements, escalations, outbox, overrides, visit_events, visits

RECORD_KINDS: tuple[tuple[str, Table, str, tuple[str, ...], ColumnElement[bool] | None], ...] = (
    ("visit", visits, "id", ("id", "school_id", "pupil_mis_id", "state", "planned_start", "expected_return",
                             "address_text", "reason", "staff_ids", "data"), None),
    ("event", visit_events, "visit_id", ("id", "visit_id", "at", "actor", "event", "from_state", "to_state",
                                         "stage", "findings", "note"), None),
    ("acknowledgement", acknowledgements, "visit_id", ("id", "visit_id", "rule_id", "by", "at", "note"), None),
    ("override", overrides, "visit_id", ("id", "visit_id", "rule_id", "by", "at", "reason"), None),
    ("outbox", outbox, "visit_id", ("id", "school_id", "visit_id", "kind", "priority", "payload",
                                    "idempotency_key", "alert_dsl"), None),
    ("escalation", escalations, "visit_id", ("id", "visit_id", "kind", "key", "acknowledged_by",
                                             "acknowledged_at", "note", "stood_down_by", "escalated_by"),
     escalations.c.kind != "checkin-reminder"),
)
"""What is hashed: (name, table, the column naming the visit, the columns that matter, which rows). A check-in
reminder is a nudge the watch sends, not a decision, and has no audit entry of its own: it is left out."""

_CHUNK = 500


@dataclass(frozen=True)
class RecordProblem:
    """A record whose state no longer matches what the audit log recorded."""

    visit_id: str
    record: str
    """The record, e.g. ``visit V1`` or ``event 17``."""
    problem: str
    """``edited``, ``deleted``, or ``not in the audit log``."""

    def __str__(self) -> str:
        return f"{self.record} (visit {self.visit_id}): {self.problem}"


def snapshot(conn: Connection, visit_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Visit id → ``{"visit V1": hash, "event 17": hash, …}``: each record about the visits as the store holds it now."""
    wanted = sorted(set(visit_ids))
    found: dict[str, dict[str, str]] = {visit_id: {} for visit_id in wanted}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        for name, table, owner, columns, which in RECORD_KINDS:
            query = select(*(table.c[c] for c in columns)).where(table.c[owner].in_(chunk))
            rows = conn.execute(query if which is None else query.where(which)).mappings()
            for row in rows:
                found[row[owner]][f"{name} {row['id']}"] = digest(dict(row))
    return found


def compare(recorded: Mapping[str, Mapping[str, str]], now: Mapping[str, Mapping[str, str]]) -> list[RecordProblem]:
    """Every difference between the snapshots the audit log ``recorded`` and the records ``now``, per visit."""
    problems: list[RecordProblem] = []
    for visit_id, was in recorded.items():
        current = now.get(visit_id, {})
        for record, hashed in was.items():
            if record not in current:
                problems.append(RecordProblem(visit_id, record, "deleted"))
            elif current[record] != hashed:
                problems.append(RecordProblem(visit_id, record, "edited since its last audit entry"))
        problems.extend(RecordProblem(visit_id, record, "not in the audit log (forged)")
                        for record in current if record not in was)
    return problems


def unrecorded(conn: Connection, recorded: Sequence[str]) -> list[str]:
    """The visits in the store that no audit entry has a snapshot of (forged, or last audited before record hashes)."""
    known = set(recorded)
    return [visit_id for visit_id in conn.execute(select(visits.c.id).order_by(visits.c.id)).scalars()
            if visit_id not in known]
