"""People acting on the watch's events, and the live board: the API the CLI and the dashboard call.

* :meth:`Escalations.board` — who is out, where, due back when, the next
  check-in, overdue or not, and the escalation step reached.
* :meth:`Escalations.list` — escalation events, open ones by default.
* :meth:`Escalations.ack` — "I've got this" with a note ("phoned, no
  answer"). The first acknowledgement wins; the others are told who took it.
  The visiting staff cannot acknowledge their own alarm (someone may be
  making them).
* :meth:`Escalations.escalate_now` — fire the chain's next step at once; its
  own time limit runs from now. The visiting staff may call for help this way.
* :meth:`Escalations.stand_down` — staff are safe: every open event of the
  visit is closed. The visiting staff cannot stand down their own alarm.

Only the people the school's policy names act on an alarm: the roles the chain
gives the step (for a stand-down, the most senior step open) and the
authorisers. Anyone else is refused with who may, by role and by name. Notes
refuse the visit's code word, as every note does, before anything is written.

Every action is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select, update

from hv_connector.clock import local, utc
from hv_connector.errors import InputError, RefusedError
from hv_connector.models import StaffMember
from hv_connector.store import audit
from hv_connector.store.schema import escalations, visits
from hv_connector.visits.lifecycle import OUT, State
from hv_connector.visits.timetable import Timetable
from hv_connector.watch.schedule import (
    VISITING_STAFF,
    Assessment,
    back_at,
    next_check_in,
    next_step,
    staff_names,
    wall,
)
from hv_connector.watch.store import (
    WatchedVisit,
    enqueue_now,
    load_fired,
    load_timetables,
    load_visits,
)
from hv_connector.watch.tick import TickResult, Watch


@dataclass(frozen=True)
class EscalationView:
    """One escalation event as people see it (the message never holds the code word)."""

    id: int
    visit_id: str
    school_id: str
    kind: str
    step_index: int
    due_at: datetime
    fired_at: datetime | None
    who: tuple[str, ...]
    message: str
    acknowledged_by: str | None
    acknowledged_by_name: str | None
    acknowledged_at: datetime | None
    note: str | None
    closed_at: datetime | None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def as_json(self) -> dict[str, object]:
        return {**self.__dict__, "who": list(self.who), "open": self.open}


@dataclass(frozen=True)
class BoardRow:
    """One visit out, as the live board shows it."""

    visit_id: str
    school_id: str
    state: str
    staff: str
    """The visiting staff's names."""
    address: str | None
    planned_start: datetime
    expected_return: datetime | None
    next_check_in: datetime | None
    next_check_in_what: str | None
    overdue: bool
    """Past the expected return (the state may not have caught up until the grace has passed)."""
    escalation: EscalationView | None
    """The latest open escalation event, if any (its step, who acknowledged it)."""
    open_escalations: int
    pupil: str = ""
    """The pupil visited, as the visit names them."""
    staff_ids: tuple[str, ...] = ()
    phones: str = ""
    """Each visiting member of staff with their mobile: ``Ash Visitor 07700 900305, Sky Second (no mobile)``."""
    signed_out_at: datetime | None = None
    last_contact: datetime | None = None
    """Sign-out or the latest check-in."""
    last_contact_how: str | None = None
    """How that contact came: ``signed out`` or the check-in's kind (``staff-call``, ``arrived`` …)."""
    steps: tuple[str, ...] = ()
    """What each step of the visit's escalation chain asks, in order, in the policy's words."""

    @property
    def asks(self) -> str | None:
        """What the open escalation step asks of the people it reaches (once every step has been taken: the last
        step's); ``None`` with no step open."""
        if self.escalation is None or not self.steps:
            return None
        return self.steps[min(self.escalation.step_index, len(self.steps) - 1)]

    def as_json(self) -> dict[str, object]:
        return {**self.__dict__, "staff_ids": list(self.staff_ids),
                "escalation": self.escalation.as_json() if self.escalation else None}


class Escalations:
    """Acknowledge, escalate now, stand down; list events; the live board. Built on a :class:`Watch`."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self._seen: dict[str, tuple[int, BoardRow, datetime | None]] = {}
        """Visit id → (the version the board last read, its row then, when its staff were back if they said so):
        a refresh reads again only the visits changed since."""

    # --- reading -------------------------------------------------------------------------------

    def list(self, *, open_only: bool = True, visit_id: str | None = None) -> list[EscalationView]:
        """Escalation events, oldest first: the open ones (default), or all, optionally of one visit."""
        query = select(escalations).order_by(escalations.c.id)
        if open_only:
            query = query.where(escalations.c.closed_at.is_(None))
        if visit_id is not None:
            query = query.where(escalations.c.visit_id == visit_id)
        with self.watch.store.connect() as conn:
            return [self._view(row) for row in conn.execute(query).mappings()]

    def get(self, escalation_id: int) -> EscalationView:
        """The event ``escalation_id``, or :class:`InputError`."""
        with self.watch.store.connect() as conn:
            return self._load(conn, escalation_id)

    def board(self, now: datetime | None = None, *, school: str | None = None) -> builtins.list[BoardRow]:
        """Every visit out now (signed out, overdue, escalated), most urgent first.

        Read from the visits' columns and stored timetables, as the watch reads them (a visit with none is worked
        out from its whole document), and only for visits changed since the last refresh; the visits out are one
        subquery, never a list of their ids.
        """
        now = utc(now or self.watch.clock.now())
        out = select(visits.c.id).where(visits.c.state.in_([s.value for s in OUT]))
        if school is not None:
            out = out.where(visits.c.school_id == school)
        with self.watch.store.connect() as conn:
            versions = dict(conn.execute(select(visits.c.id, visits.c.version).where(visits.c.id.in_(out))).all())
            changed = [visit_id for visit_id, version in versions.items()
                       if self._seen.get(visit_id, (None,))[0] != version]
            if changed:
                timed = load_timetables(conn, changed, self.watch.reader)
                about = {r.id: r for r in conn.execute(select(visits.c.id, visits.c.address_text, visits.c.pupil_name)
                                                       .where(visits.c.id.in_(changed)))}
            events = conn.execute(select(escalations).where(escalations.c.visit_id.in_(out),
                                                            escalations.c.closed_at.is_(None))
                                  .order_by(escalations.c.id)).mappings().all()
        seen = {visit_id: self._seen[visit_id] for visit_id in versions if visit_id not in changed}
        if changed:
            timetables = self.watch.timetables(timed)
            for v in timed:
                seen[v.id] = (v.version, *_board_row(v.state, timetables[v.id], about[v.id].address_text,
                                                     about[v.id].pupil_name))
        self._seen = seen
        open_by_visit: dict[str, list[EscalationView]] = {}
        for row in events:
            open_by_visit.setdefault(row["visit_id"], []).append(self._view(row))
        rows = [_as_now(row, back, open_by_visit.get(visit_id, []), now) for visit_id, (_, row, back) in seen.items()]
        return sorted(rows, key=_urgency)

    # --- acting ------------------------------------------------------------------------------------

    def ack(self, escalation_id: int, *, by: str, note: str = "") -> EscalationView:
        """Acknowledge an event ("phoned, no answer"): the first one wins, the others see who took it."""
        now = utc(self.watch.clock.now())
        with self.watch.store.begin() as conn:
            event = self._load(conn, escalation_id)
            target = self._visit(conn, event.visit_id)
            self.watch.service.refuse_code_word(conn, target.id, {"note": note})
            person = self._person(target, by, "acknowledge")
            self._may_act(target, person, event, f"acknowledge escalation {escalation_id}")
            if event.acknowledged_by is not None:
                raise RefusedError(f"escalation {escalation_id} was already acknowledged by "
                                   f"{event.acknowledged_by_name} at {wall(event.acknowledged_at or now)}"
                                   + (f" ({event.note})" if event.note else ""))
            if not event.open:
                raise RefusedError(f"escalation {escalation_id} is closed ({event.note or 'stood down'}); "
                                   "nothing to acknowledge")
            taken = conn.execute(
                update(escalations).where(escalations.c.id == escalation_id, escalations.c.acknowledged_by.is_(None))
                .values(acknowledged_by=by, acknowledged_at=now, note=note.strip() or None)).rowcount
            if taken != 1:  # someone acknowledged it between our read and our write
                raise RefusedError(f"escalation {escalation_id} was acknowledged by someone else just now: "
                                   f"`hvc escalation list` shows who")
            audit.append(conn, actor=by, action="escalation.ack", school_id=target.school, visit_id=target.id,
                         at=now, detail={"escalation_id": escalation_id, "step": event.step_index, "kind": event.kind,
                                         "note": note.strip(), "by_name": person.name})
            return self._load(conn, escalation_id)

    def escalate_now(self, escalation_id: int, *, by: str) -> EscalationView:
        """Fire the next step of the chain that ``escalation_id`` belongs to, now."""
        now = utc(self.watch.clock.now())
        with self.watch.store.connect() as conn:
            event = self._load(conn, escalation_id)
            target = self._visit(conn, event.visit_id)
            fired = load_fired(conn, [target.id])[target.id]
        person = self._person(target, by, "escalate", allow_visiting=True)
        self._may_act(target, person, event, f"escalate visit {target.id}", visiting_may=True)
        plan, chain = self.watch.plan_and_chain(target.school, target.visit)
        step = next_step(target.visit, plan, chain, fired, now)
        if step is None:
            raise RefusedError(f"visit {target.id} has no running escalation with a step left to take; "
                               "`hvc escalation list` shows what is open")
        result = TickResult(at=now)
        if not self.watch.move(target.id, target.state, Assessment(events=(step,)), fired, result):
            raise RefusedError(f"visit {target.id} changed while you acted: look at it again")
        with self.watch.store.begin() as conn:
            new_id = self.watch.record(conn, target.school, target.visit, step, now, result, actor=by,
                                       action="escalation.escalated-now")
            enqueue_now(conn, target.id, now)
        if new_id is None:
            raise RefusedError(f"the next step for visit {target.id} fired just now; `hvc escalation list` shows it")
        self.watch.deliver(result)
        return self.get(new_id)

    def stand_down(self, visit_id: str, *, by: str, note: str = "") -> builtins.list[EscalationView]:
        """Staff are safe: close every open event of the visit. Returns the events closed."""
        now = utc(self.watch.clock.now())
        with self.watch.store.begin() as conn:
            target = self._visit(conn, visit_id)
            self.watch.service.refuse_code_word(conn, visit_id, {"note": note})
            person = self._person(target, by, "stand down")
            reached = self._step_reached(conn, visit_id)
            if reached is not None:
                self._may_act(target, person, reached, f"stand down visit {visit_id}")
            open_ids = conn.execute(select(escalations.c.id).where(
                escalations.c.visit_id == visit_id, escalations.c.closed_at.is_(None))
                .order_by(escalations.c.id)).scalars().all()
            if not open_ids:
                raise RefusedError(f"visit {visit_id} has no open escalation to stand down")
            # The fact is ``stood_down_by``; the note is only words for people to read.
            words = f"stood down by {person.name} at {wall(now)}" + (f": {note.strip()}" if note.strip() else "")
            conn.execute(update(escalations).where(escalations.c.id.in_(open_ids))
                         .values(closed_at=now, stood_down_by=by, note=words))
            audit.append(conn, actor=by, action="escalation.stand-down", school_id=target.school, visit_id=visit_id,
                         at=now, detail={"escalations": list(open_ids), "note": note.strip(), "by_name": person.name})
            enqueue_now(conn, visit_id, now)
            closed = conn.execute(select(escalations).where(escalations.c.id.in_(open_ids))
                                  .order_by(escalations.c.id)).mappings()
            return [self._view(row) for row in closed]

    # --- helpers -------------------------------------------------------------------------------------

    def _person(self, target: WatchedVisit, by: str, doing: str, *, allow_visiting: bool = False) -> StaffMember:
        person = self.watch.member(target.school, by)
        if person is None:
            raise InputError(f"--as: {by!r} is not in {target.school}'s staff directory (`hvc config show` lists it)")
        if not allow_visiting and by in {s.id for s in target.visit.staff}:
            raise RefusedError(f"{person.name} is on visit {target.id} and cannot {doing} their own alarm: "
                               "someone at school must do it")
        return person

    def _may_act(self, target: WatchedVisit, person: StaffMember, step: EscalationView, doing: str, *,
                 visiting_may: bool = False) -> None:
        """Refuse ``person`` unless the chain names one of their roles for ``step``, or they may authorise the visit."""
        visiting = {s.id for s in target.visit.staff}
        if visiting_may and person.id in visiting:
            return
        roles = list(dict.fromkeys([*(r for r in step.who if r != VISITING_STAFF),
                                    *self.watch.service.authoriser_roles(target.visit)]))
        if person.has_any(roles):
            return
        names = [m.name for m in self.watch.staff.get(target.school, {}).values()
                 if m.has_any(roles) and m.id not in visiting]
        raise RefusedError(
            f"{person.name} ({person.id}) may not {doing}: {target.school}'s policy lets only "
            f"{' or '.join(roles) or 'nobody'} act on step {step.step_index + 1} ({step.kind}); "
            f"ask {', '.join(names) if names else 'the school to name someone with one of those roles'}"
        )

    def _step_reached(self, conn: Connection, visit_id: str) -> EscalationView | None:
        """The most senior open step of the visit (a reminder only when nothing else is open)."""
        rows = conn.execute(select(escalations).where(escalations.c.visit_id == visit_id,
                                                      escalations.c.closed_at.is_(None))).mappings()
        views = [self._view(row) for row in rows]
        steps = [v for v in views if v.kind != "checkin-reminder"] or views
        return max(steps, key=lambda v: (v.step_index, v.id), default=None)

    def _visit(self, conn: Connection, visit_id: str) -> WatchedVisit:
        found = load_visits(conn, [visit_id])
        if not found:
            raise InputError(f"there is no visit {visit_id!r} (`hvc visit list` shows them)")
        return found[0]

    def _load(self, conn: Connection, escalation_id: int) -> EscalationView:
        row = conn.execute(select(escalations).where(escalations.c.id == escalation_id)).mappings().one_or_none()
        if row is None:
            raise InputError(f"there is no escalation {escalation_id} (`hvc escalation list` shows the open ones)")
        return self._view(row)

    def _view(self, row: RowMapping) -> EscalationView:
        school = row["school_id"] or ""
        by = row["acknowledged_by"]
        member = self.watch.member(school, by) if by else None
        return EscalationView(
            id=row["id"], visit_id=row["visit_id"], school_id=school, kind=row["kind"], step_index=row["step_index"],
            due_at=row["due_at"], fired_at=row["fired_at"], who=tuple(row["who"] or ()), message=row["message"] or "",
            acknowledged_by=by, acknowledged_by_name=member.name if member else by,
            acknowledged_at=row["acknowledged_at"], note=row["note"], closed_at=row["closed_at"],
        )


def _board_row(state: str, visit: Timetable, address: str | None, pupil: str | None) -> tuple[BoardRow, datetime | None]:
    """One visit out as the board shows it, from its timetable, before the clock and its escalation events are
    applied (:func:`_as_now`); and when its staff were back, if they said so."""
    upcoming = next_check_in(visit, visit.plan)
    last = max(visit.check_ins, key=lambda c: utc(c.at), default=None)
    if last is None or (visit.signed_out_at is not None and utc(visit.signed_out_at) > utc(last.at)):
        contact, how = visit.signed_out_at, "signed out" if visit.signed_out_at else None
    else:
        contact, how = last.at, last.kind + (" (code word)" if last.code_word_used else "")
    row = BoardRow(
        visit_id=visit.id, school_id=visit.school, state=state, staff=staff_names(visit), address=address,
        planned_start=visit.planned_start, expected_return=visit.expected_return,
        next_check_in=upcoming[0] if upcoming else None, next_check_in_what=upcoming[1] if upcoming else None,
        overdue=False, escalation=None, open_escalations=0, pupil=pupil or "", staff_ids=tuple(m.id for m in visit.staff),
        phones=", ".join(f"{m.name} {m.mobile or '(no mobile)'}" for m in visit.staff),
        signed_out_at=visit.signed_out_at, last_contact=contact, last_contact_how=how,
        steps=tuple(step.action for step in visit.chain),
    )
    return row, back_at(visit, visit.plan)


def _as_now(row: BoardRow, back: datetime | None, open_events: Sequence[EscalationView], now: datetime) -> BoardRow:
    """``row`` at ``now``: overdue unless its staff said they were back, with its latest open chain step."""
    chain_events = [e for e in open_events if e.kind != "checkin-reminder"]
    due = row.expected_return
    return replace(row, overdue=back is None and due is not None and now > utc(due),
                   escalation=chain_events[-1] if chain_events else None, open_escalations=len(open_events))


def _urgency(row: BoardRow) -> tuple[int, datetime]:
    rank = {State.ESCALATED.value: 0, State.OVERDUE.value: 1}.get(row.state, 3 if not row.overdue else 2)
    return rank, local(row.expected_return or row.planned_start)
