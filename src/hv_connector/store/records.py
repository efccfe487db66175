"""Record hashes: the state of every record about a visit, hashed row by row, for the audit log to carry.

When an audit entry about a visit is written, :func:`stamp` hashes, in the
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

Since revision 0013 a visit's own record is hashed with its document's digest
in place of the document (the hash marked ``2:``): an entry being written
takes the digest stored beside the document (:func:`stamp`), so a tick that
audits a thousand visits does not hash a thousand documents again, while
:func:`snapshot`, for ``hvc audit verify``, hashes each document itself, so a
document edited since shows, whatever digest is stored beside it. A visit
record hashed before (the whole document, unmarked) is compared as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, Table, bindparam, select

from hv_connector.store.bulk import in_chunks
from hv_connector.store.hashing import digest
from hv_connector.store.schema import acknowledgements, escalations, outbox, overrides, visit_events, visits

VISIT_COLUMNS = ("id", "school_id", "pupil_mis_id", "state", "planned_start", "expected_return", "address_text",
                 "reason", "staff_ids", "data")
"""What is hashed of the visit itself (``visit V1``)."""

RECORD_KINDS: tuple[tuple[str, Table, str, tuple[str, ...], ColumnElement[bool] | None], ...] = (
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
"""What else is hashed: (name, table, the column naming the visit, the columns that matter, which rows). A check-in
reminder is a nudge the watch sends, not a decision, and has no audit entry of its own: it is left out."""


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


DIGESTED = "2:"
"""How the hash of a visit record begins when its document was hashed as its digest (revision 0013 on)."""

VisitRecords = Callable[[Sequence[str]], dict[str, str]]
"""Visit ids → the hash of each one's own record."""


def snapshot(conn: Connection, visit_ids: Iterable[str], *,
             recorded: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """Visit id → ``{"visit V1": hash, "event 17": hash, …}``: each record about the visits as the store holds it now.

    Every hash is worked out from the rows themselves, each visit's document included (its stored digest is
    not trusted): what ``hvc audit verify`` compares with the audit log.

    :param recorded: the snapshots the audit log holds: a visit record it hashed whole (before revision 0013) is
        hashed whole again, to compare like with like.
    """
    whole = {visit_id for visit_id, was in (recorded or {}).items()
             if not was.get(f"visit {visit_id}", DIGESTED).startswith(DIGESTED)}

    def visit_records(chunk: Sequence[str]) -> dict[str, str]:
        found = {}
        for row in _visit_rows(conn, VISIT_COLUMNS, chunk):
            if row["id"] in whole:
                found[row["id"]] = digest(row)
            else:
                row["data"] = digest(row["data"])
                found[row["id"]] = DIGESTED + digest(row)
        return found

    return _hash(conn, visit_ids, visit_records)


def stamp(conn: Connection, visit_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """As :func:`snapshot`, for the audit entries a transaction writes: each visit's document is taken by the
    digest written with it (``visits.data_hash``), and hashed only when it has none (written before revision 0013)."""

    def visit_records(chunk: Sequence[str]) -> dict[str, str]:
        rows = _visit_rows(conn, tuple("data_hash" if c == "data" else c for c in VISIT_COLUMNS), chunk)
        unhashed = [row["id"] for row in rows if row["data"] is None]
        if unhashed:
            documents = {visit_id: data for visit_id, data in
                         conn.execute(select(visits.c.id, visits.c.data).where(visits.c.id.in_(unhashed)))}
            for row in rows:
                if row["data"] is None:
                    row["data"] = digest(documents[row["id"]])
        return {row["id"]: DIGESTED + digest(row) for row in rows}

    return _hash(conn, visit_ids, visit_records)


_IDS: BindParameter[str] = bindparam("ids", expanding=True)
"""The visits a query reads: one statement, compiled once, for any number of them."""


@cache
def _visit_query(columns: tuple[str, ...]) -> Select[Any]:
    """The visits' ``columns`` for the visit ids bound as ``ids``."""
    return select(*(visits.c[c] for c in columns)).where(visits.c.id.in_(_IDS))


@cache
def _record_query(kind: int) -> Select[Any]:
    """The hashed columns of the records of the ``kind``-th of :data:`RECORD_KINDS` about the visit ids bound as ``ids``."""
    _, table, owner, columns, which = RECORD_KINDS[kind]
    query = select(*(table.c[c] for c in columns)).where(table.c[owner].in_(_IDS))
    return query if which is None else query.where(which)


def _visit_rows(conn: Connection, columns: Sequence[str], chunk: Sequence[str]) -> list[dict[str, Any]]:
    """The visits ``chunk``, keyed as :data:`VISIT_COLUMNS` (plain strings, hashed fastest), read from ``columns``."""
    return [dict(zip(VISIT_COLUMNS, values, strict=True))
            for values in conn.execute(_visit_query(tuple(columns)), {"ids": chunk})]


def _hash(conn: Connection, visit_ids: Iterable[str], visit_records: VisitRecords) -> dict[str, dict[str, str]]:
    wanted = sorted(set(visit_ids))
    found: dict[str, dict[str, str]] = {visit_id: {} for visit_id in wanted}
    for chunk in in_chunks(wanted):
        for visit_id, hashed in visit_records(chunk).items():
            found[visit_id][f"visit {visit_id}"] = hashed
        for kind, (name, _, owner, columns, _) in enumerate(RECORD_KINDS):
            for values in conn.execute(_record_query(kind), {"ids": chunk}):
                row = dict(zip(columns, values, strict=True))  # plain string keys: hashed fastest
                found[row[owner]][f"{name} {row['id']}"] = digest(row)
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
