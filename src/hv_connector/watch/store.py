"""The watch's tables, as the tick and people acting on its events read and write them.

- ``visits``: the visits the watch looks after: their timetables (:func:`load_timetables`,
  :func:`store_timetables`) for the tick, whole (:func:`load_visits`) for people acting.
- ``escalations``: the events fired (:func:`load_fired`, :func:`close`).
- ``watch_queue``: when to look at each visit next (:func:`enqueue`,
  :func:`reschedule`).
- ``heartbeats``: the watch's own row (:data:`~hv_connector.store.schema.HEARTBEAT`).

Both :mod:`.tick` and :mod:`.escalations` build on this module, so neither
reaches into the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hv_connector.humanize import WATCH
from hv_connector.models import Visit
from hv_connector.store import audit
from hv_connector.store.bulk import insert_rows
from hv_connector.store.schema import escalations, visits, watch_queue
from hv_connector.store.types import Json
from hv_connector.visits.timetable import Reader, Timetable
from hv_connector.watch.schedule import Fired

ACTOR = WATCH
"""Who the audit log says acted: the same actor the lifecycle records for the watch's moves."""


@dataclass(frozen=True)
class WatchedVisit:
    """A visit as the watch reads it: id, school, state and the visit (never its code word)."""

    id: str
    school: str
    state: str
    visit: Visit
    address: str | None = None


def load_visits(conn: Connection, ids: Sequence[str]) -> list[WatchedVisit]:
    """The visits with ``ids`` (by primary key)."""
    rows = conn.execute(select(visits.c.id, visits.c.school_id, visits.c.state, visits.c.data, visits.c.address_text)
                        .where(visits.c.id.in_(ids))).mappings().all()
    return [WatchedVisit(r["id"], r["school_id"], r["state"], Visit.model_validate(r["data"]), r["address_text"])
            for r in rows]


@dataclass(frozen=True)
class TimedVisit:
    """A visit as the tick reads it: id, school, state, version and its timetable (``None``: not stored)."""

    id: str
    school: str
    state: str
    version: int
    timetable: Timetable | None


def load_timetables(conn: Connection, ids: Sequence[str] | Select[tuple[str]], reader: Reader) -> list[TimedVisit]:
    """The visits with ``ids`` (or those a query of ids selects), reading their stored timetables (a handful of
    columns), never their documents."""
    rows = conn.execute(select(visits.c.id, visits.c.school_id, visits.c.state, visits.c.version,
                               visits.c.planned_start, visits.c.expected_return, visits.c.timetable,
                               visits.c.timetable_shared)
                        .where(visits.c.id.in_(ids))).all()
    return [TimedVisit(r.id, r.school_id, r.state, r.version,
                       None if r.timetable is None or r.timetable_shared is None else
                       reader.read(r.id, r.school_id, r.planned_start, r.expected_return, r.timetable,
                                   r.timetable_shared))
            for r in rows]


def store_timetables(conn: Connection, found: Sequence[tuple[str, int, dict[str, Any]]]) -> None:
    """Store the timetables the watch worked out, (visit id, the version it read, columns), unless the visit changed since."""
    if found:
        conn.execute(update(visits).where(visits.c.id == bindparam("visit_id"), visits.c.version == bindparam("seen"))
                     .values(timetable=bindparam("times", type_=Json), timetable_shared=bindparam("shared")),
                     [{"visit_id": visit_id, "seen": version, "times": columns["timetable"],
                       "shared": columns["timetable_shared"]} for visit_id, version, columns in found])


def load_fired(conn: Connection, visit_ids: Sequence[str]) -> dict[str, dict[str, Fired]]:
    """The events recorded for each of ``visit_ids``: visit id → key → event."""
    found: dict[str, dict[str, Fired]] = {vid: {} for vid in visit_ids}
    rows = conn.execute(select(escalations.c.visit_id, escalations.c.key, escalations.c.kind,
                               escalations.c.step_index, escalations.c.episode, escalations.c.due_at,
                               escalations.c.closed_at, escalations.c.stood_down_by)
                        .where(escalations.c.visit_id.in_(visit_ids)))
    for r in rows:
        # Who stood it down is a column: nothing typed into a note can make the watch think staff are safe.
        stood_down = r.closed_at is not None and r.stood_down_by is not None
        found[r.visit_id][r.key] = Fired(r.key, r.kind, r.step_index, r.episode, r.due_at, r.closed_at, stood_down)
    return found


def open_keys(conn: Connection, visit_ids: Sequence[str]) -> dict[str, list[str]]:
    """The keys of the events still open for each of ``visit_ids``, in the order they fired (one query for all)."""
    found: dict[str, list[str]] = {visit_id: [] for visit_id in visit_ids}
    if found:
        rows = conn.execute(select(escalations.c.visit_id, escalations.c.key).where(
            escalations.c.visit_id.in_(sorted(found)), escalations.c.closed_at.is_(None)).order_by(escalations.c.id))
        for visit_id, key in rows:
            found[visit_id].append(key)
    return found


def insert(conn: Connection, table: Any) -> Any:
    """An INSERT on ``table`` in the connection's dialect, so ``on_conflict_do_…`` can follow."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    """Insert ``values``, or update the row whose ``keys`` match."""
    statement = insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=keys,
                                                 set_={k: v for k, v in values.items() if k not in keys}))


def enqueue(conn: Connection, due: Sequence[tuple[str, datetime]]) -> None:
    """Queue visits to be looked at (an earlier time already queued wins)."""
    if not due:
        return
    statement = insert(conn, watch_queue)
    earlier = (func.min if conn.dialect.name == "sqlite" else func.least)(watch_queue.c.due_at,
                                                                          statement.excluded.due_at)
    conn.execute(statement.on_conflict_do_update(index_elements=["visit_id"], set_={"due_at": earlier}),
                 [{"visit_id": visit_id, "due_at": at} for visit_id, at in due])


def reschedule(conn: Connection, next_looks: Mapping[str, datetime | None]) -> None:
    """Set when the watch next looks at each visit; ``None``: never again (until the visit changes)."""
    ordered = sorted(next_looks.items())  # one lock order for every watch (PostgreSQL deadlocks otherwise)
    drop = [visit_id for visit_id, at in ordered if at is None]
    keep = [{"visit_id": visit_id, "due_at": at} for visit_id, at in ordered if at is not None]
    if drop:
        conn.execute(delete(watch_queue).where(watch_queue.c.visit_id.in_(drop)))
    insert_rows(conn, watch_queue, keep, conflict=["visit_id"], update=["due_at"])


def close(conn: Connection, closing: Sequence[tuple[WatchedVisit | TimedVisit, str, str]], now: datetime) -> int:
    """Close each open event (visit, key, reason) with its reason, audited: a few statements for all; how many closed.

    An event closed already (by a person, by another watch) is left as it is, and not audited again.
    """
    keys = sorted({key for _, key, _ in closing})
    if not keys:
        return 0
    query = (select(escalations.c.key).where(escalations.c.key.in_(keys), escalations.c.closed_at.is_(None))
             .order_by(escalations.c.key))
    if conn.dialect.name == "postgresql":  # SQLite has one writer at a time, and no row locks
        query = query.with_for_update()  # in key order, so two watches closing the same events queue, not deadlock
    still_open = set(conn.execute(query).scalars())
    done = []
    for row, key, reason in closing:
        if key in still_open:
            still_open.discard(key)  # named twice: closed (and audited) once, with the first reason
            done.append((row, key, reason))
    if done:
        conn.execute(update(escalations).where(escalations.c.key == bindparam("closing"), escalations.c.closed_at.is_(None))
                     .values(closed_at=now, note=func.coalesce(escalations.c.note, bindparam("reason"))),
                     [{"closing": key, "reason": reason} for _, key, reason in done])
    for row, key, reason in done:
        audit.append(conn, actor=ACTOR, action="escalation.closed", school_id=row.school, visit_id=row.id, at=now,
                     detail={"key": key, "reason": reason})
    return len(done)


def enqueue_now(conn: Connection, visit_id: str, now: datetime) -> None:
    """Have the next tick look at ``visit_id`` (after a person changed its escalations)."""
    enqueue(conn, [(visit_id, now)])
