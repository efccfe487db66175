"""After a school's sync: its pupils' attendance against its triggers, written as proposals.

One transaction per school. A pupil newly meeting a trigger gets an ``open`` proposal; while a proposal for
the same pupil and trigger is still met (open, accepted or dismissed) no second one is made, and its figures
are brought up to date. A proposal whose pupil no longer meets the trigger is marked ``met_until``; an open one
is closed with the reason, and the closing is audited. A school with no session marks at all gets no proposals
and a recorded line saying why (its open ones close, since nothing supports them any more).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hv_connector.attendance.triggers import PupilMeasures, met_triggers, pupil_measures
from hv_connector.clock import local
from hv_connector.models import AttendanceTrigger, Measure
from hv_connector.proposals.triggers import school_triggers
from hv_connector.read.attendance import NOT_AVAILABLE, school_marks
from hv_connector.runtime import Runtime
from hv_connector.store import audit
from hv_connector.store.bulk import insert_rows
from hv_connector.store.schema import proposal_runs, proposals, pupils, visits
from hv_connector.visits.lifecycle import State

SYSTEM = "system:proposals"
"""The audit actor of what the refresh does by itself."""
NOT_VISITS = (State.DECLINED.value, State.CANCELLED.value)
"""A visit in these states did not happen and was not going to: it does not count as a recent visit."""
AGREED = (State.REPORTED.value, State.CLOSED.value)
"""A visit in these states has its report, with any agreements made."""


@dataclass
class Refreshed:
    """What one school's refresh did."""

    school_id: str
    pupils: int = 0
    opened: int = 0
    still_open: int = 0
    closed: int = 0
    unavailable: str | None = None


def refresh_school(conn: Connection, school_id: str, triggers: Sequence[AttendanceTrigger], *, now: datetime,
                   recent_visit_days: int) -> Refreshed:
    """Evaluate ``triggers`` for every pupil of ``school_id`` with marks, in the caller's transaction."""
    as_of = local(now).date()
    result = Refreshed(school_id)
    agreed = _agreements(conn, school_id) if any(
        t.measure is Measure.UNAUTHORISED_SINCE_AGREEMENT for t in triggers) else {}
    met = evaluate(school_marks(conn, school_id, as_of), triggers, as_of, agreed, _archived(conn, school_id), result)
    if not result.pupils:
        result.unavailable = NOT_AVAILABLE
    recent = _recent_visits(conn, school_id, now - timedelta(days=recent_visit_days))
    active = conn.execute(select(proposals.c.id, proposals.c.pupil_mis_id, proposals.c.trigger_id, proposals.c.status)
                          .where(proposals.c.school_id == school_id, proposals.c.met_until.is_(None))).all()
    kept: list[Any] = []
    ended: list[Any] = []
    for row in active:
        (kept if (row.pupil_mis_id, row.trigger_id) in met else ended).append(row)
    _keep(conn, kept, met, recent, now)
    result.still_open = sum(row.status == "open" for row in kept)
    result.closed = _end(conn, school_id, ended, now, result.unavailable)
    known = {(row.pupil_mis_id, row.trigger_id) for row in kept}
    fresh = [(key, found) for key, found in met.items() if key not in known]
    if fresh:
        insert_rows(conn, proposals, [_new_row(school_id, key, found, recent, now) for key, found in fresh])
    result.opened = len(fresh)
    conn.execute(delete(proposal_runs).where(proposal_runs.c.school_id == school_id))
    conn.execute(insert(proposal_runs).values(school_id=school_id, evaluated_at=now, pupils=result.pupils,
                                              unavailable=result.unavailable))
    return result


Met = dict[tuple[str, str], tuple[AttendanceTrigger, dict[str, Any]]]
"""(pupil, trigger id) → the trigger and the figures behind it."""


def evaluate(marks: Iterable[tuple[str, list[tuple[date, str]]]], triggers: Sequence[AttendanceTrigger], as_of: date,
             agreed: dict[str, date], archived: set[str], result: Refreshed) -> Met:
    """Every (pupil, trigger) met, from each pupil's marks; ``result.pupils`` counts the pupils evaluated."""
    met: Met = {}
    for mis_id, pupil in marks:
        if mis_id in archived:
            continue
        result.pupils += 1
        measures: PupilMeasures = pupil_measures(pupil, as_of, agreed.get(mis_id))
        found = met_triggers(triggers, measures)
        if found:
            figures = measures.as_record()
            for trigger in found:
                met[(mis_id, trigger.id)] = (trigger, figures)
    return met


def _archived(conn: Connection, school_id: str) -> set[str]:
    return set(conn.execute(select(pupils.c.mis_id).where(pupils.c.school_id == school_id,
                                                          pupils.c.archived_at.is_not(None))).scalars())


def _agreements(conn: Connection, school_id: str) -> dict[str, date]:
    """Each pupil's latest reported visit that recorded agreements, as the day it was planned for."""
    found: dict[str, date] = {}
    rows = conn.execute(select(visits.c.pupil_mis_id, visits.c.planned_start, visits.c.data)
                        .where(visits.c.school_id == school_id, visits.c.state.in_(AGREED)))
    for pupil, start, data in rows:
        if pupil and ((data or {}).get("outcome") or {}).get("agreements"):
            day = local(start).date()
            found[pupil] = max(day, found.get(pupil, day))
    return found


def _recent_visits(conn: Connection, school_id: str, since: datetime) -> dict[str, dict[str, str]]:
    """Each pupil's latest visit planned since ``since`` (or to come) that did happen or still may."""
    found: dict[str, dict[str, str]] = {}
    rows = conn.execute(select(visits.c.pupil_mis_id, visits.c.id, visits.c.state, visits.c.planned_start)
                        .where(visits.c.school_id == school_id, visits.c.planned_start >= since,
                               visits.c.state.not_in(NOT_VISITS))
                        .order_by(visits.c.planned_start))
    for pupil, visit_id, state, start in rows:
        if pupil:
            found[pupil] = {"id": visit_id, "state": state, "planned_start": start.isoformat()}
    return found


def _keep(conn: Connection, kept: Sequence[Any], met: Met, recent: dict[str, dict[str, str]], now: datetime) -> None:
    if kept:
        conn.execute(update(proposals).where(proposals.c.id == bindparam("key")).values(
            figures=bindparam("figures"), last_met_at=now, recent_visit=bindparam("recent")),
            [{"key": row.id, "figures": met[(row.pupil_mis_id, row.trigger_id)][1],
              "recent": recent.get(row.pupil_mis_id)} for row in kept])


def _end(conn: Connection, school_id: str, ended: Sequence[Any], now: datetime, unavailable: str | None) -> int:
    """Mark ``ended`` as no longer met; close and audit the open ones. Returns how many were closed."""
    if not ended:
        return 0
    why = ("attendance is no longer available, so nothing supports it" if unavailable
           else f"the pupil no longer meets the trigger (as of {local(now):%d %b %Y})")
    conn.execute(update(proposals).where(proposals.c.id.in_([row.id for row in ended])).values(met_until=now))
    closing = [row for row in ended if row.status == "open"]
    if closing:
        conn.execute(update(proposals).where(proposals.c.id.in_([row.id for row in closing]))
                     .values(status="closed", closed_reason=why))
        with audit.batched(conn):
            for row in closing:
                audit.append(conn, actor=SYSTEM, action="proposal.closed", school_id=school_id, at=now,
                             detail={"proposal": row.id, "pupil": row.pupil_mis_id, "trigger": row.trigger_id,
                                     "reason": why})
    return len(closing)


def _new_row(school_id: str, key: tuple[str, str], found: tuple[AttendanceTrigger, dict[str, Any]],
             recent: dict[str, dict[str, str]], now: datetime) -> dict[str, Any]:
    trigger, figures = found
    return {"id": f"p-{secrets.token_hex(5)}", "school_id": school_id, "pupil_mis_id": key[0], "trigger_id": key[1],
            "trigger": trigger.model_dump(mode="json"), "figures": figures, "urgency": trigger.urgency.rank,
            "first_met_at": now, "last_met_at": now, "met_until": None, "recent_visit": recent.get(key[0]),
            "status": "open", "decided_by": None, "decided_at": None, "note": None, "visit_id": None,
            "closed_reason": None}


def refresh(rt: Runtime, school_id: str) -> Refreshed:
    """Refresh one configured school's proposals in one transaction, with its triggers and thresholds."""
    triggers = school_triggers(rt, school_id)
    with rt.store.begin() as conn:
        return refresh_school(conn, school_id, triggers, now=rt.clock.now(),
                              recent_visit_days=rt.school(school_id).recent_visit_days)


def proposals_line(done: Refreshed) -> str:
    """One line saying what a school's refresh did, or why it could not."""
    if done.unavailable:
        return f"none: {done.unavailable}"
    return (f"{done.opened} new, {done.still_open} still open, {done.closed} closed "
            f"({done.pupils} pupils' attendance checked); `hvc propose list --school {done.school_id}`")
