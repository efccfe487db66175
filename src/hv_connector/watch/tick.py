"""``hvc watch``: turn the clock into check-in reminders and escalations, along each school's chain.

One :meth:`Watch.tick` does, in order:

1. **Notice changes.** Every lifecycle action writes a ``visit_events`` row;
   the visits named by rows newer than the watch's cursor (kept in its
   heartbeat) go into ``watch_queue`` to be looked at now. The first tick ever
   queues every visit that is out.
2. **Look at what is due.** Only queue rows with ``due_at <= now`` are read
   (an index range), so a tick costs what is due, not what is stored. Of each
   visit only its timetable is read (:mod:`hv_connector.visits.timetable`: its
   times, check-ins and staff, and the plan and chain its policy gave when it
   was written), never the whole document, and the policy is not asked again;
   a visit with none stored (signed out before revision 0008) has it worked out
   once and stored. :func:`hv_connector.watch.schedule.assess` says, from
   state alone, which events are due, which open ones no longer apply, and when
   to look again.
3. **Move the visits on** (overdue, escalated) through the lifecycle
   (audited), in the same transaction as their events: a batch of visits,
   moves and events, is written together or not at all, a few statements for
   the whole batch (a batch marked overdue at once, its events inserted at once).
4. **Record, then notify.** In one transaction (run again, logged, if it is
   rolled back by a deadlock, a serialization failure or a lost connection,
   as every write of the tick and of :mod:`.delivery` is): move each visit,
   insert each event into
   ``escalations`` (its unique key makes it fire once, even across crashes and
   two watches at once), one ``notifications`` row per notifier and address,
   the audit entries, the closures, and the visit's next look in the queue.
   Only then are notifiers called, through :mod:`.delivery`: each message is
   claimed, sent and recorded as sent on its own, so a crash repeats at most
   the one in flight; a failure is retried on later ticks and never stops the
   watch. The escalation is on the board either way.
5. **Heartbeat.** ``heartbeats['watch']`` records the tick, so ``hvc status``
   can say when the watch has stopped (a stopped watch is itself an alarm);
   each watch also beats in its own row, ``watch:<host>:<pid>``.

``hvc watch --once`` (cron) and ``hvc watch`` (a daemon) run the same tick;
the schedule depends on state only, so they fire the same events.
"""

from __future__ import annotations

import gc
import logging
import time as _time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from hv_connector.clock import Clock, utc
from hv_connector.config.settings import SinkSettings
from hv_connector.errors import RefusedError
from hv_connector.models import CheckInPlan, EscalationStep, StaffMember, Visit
from hv_connector.plugins import Policies
from hv_connector.runtime import Runtime
from hv_connector.store import Store, audit
from hv_connector.store.bulk import insert_rows
from hv_connector.store.schema import (
    HEARTBEAT,
    escalations,
    heartbeats,
    notifications,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.visits import timetable
from hv_connector.visits.lifecycle import OUT, WATCHED, State
from hv_connector.visits.service import VisitService
from hv_connector.visits.timetable import Reader, Timetable
from hv_connector.watch import entry
from hv_connector.watch.delivery import Courier, Delivered
from hv_connector.watch.notify import Notice, Notifier, Recipient, load_notifiers
from hv_connector.watch.schedule import (
    VISITING_STAFF,
    Assessment,
    DueEvent,
    Fired,
    Timed,
    assess,
    state_for,
)
from hv_connector.watch.store import (
    ACTOR,
    TimedVisit,
    close,
    enqueue,
    load_fired,
    load_timetables,
    load_visits,
    open_keys,
    reschedule,
    store_timetables,
    upsert,
)

log = logging.getLogger("hv_connector.watch")

BATCH = 1000
"""Visits looked at per transaction batch."""
RETRY_BROKEN = timedelta(minutes=1)
"""How soon a visit whose policy raised is looked at again (and reported again)."""
GAP_PATIENCE = timedelta(minutes=10)
"""How long a missing ``visit_events`` id is looked for (a transaction still open, on PostgreSQL)."""
_ALONG: dict[str, int] = {state.value: place for place, state in enumerate(OUT)}
"""How far along :data:`OUT` each state is, by its name (a :class:`State` is its name)."""


@dataclass(frozen=True)
class FiredEvent:
    """An event this tick recorded."""

    id: int
    key: str
    kind: str
    visit_id: str
    step_index: int
    due_at: datetime


@dataclass
class TickResult:
    """What one tick did."""

    at: datetime
    checked: int = 0
    fired: list[FiredEvent] = field(default_factory=list)
    closed: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)
    delivered: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(), "checked": self.checked, "closed": self.closed,
            "fired": [{**e.__dict__, "due_at": e.due_at.isoformat()} for e in self.fired],
            "moved": [{"visit": v, "state": s} for v, s in self.moved],
            "delivered": self.delivered, "failures": self.failures, "seconds": round(self.seconds, 4),
        }


class Watch:
    """The watch over one store: what it needs, and the tick.

    :param store: the store.
    :param policies: each school's policy (check-in plan, escalation chain).
    :param service: the visit lifecycle (the watch moves visits through it, audited).
    :param staff: school id → staff id → member: who each role reaches.
    :param notifiers: how events reach people (see :mod:`hv_connector.watch.notify`).
    :param clock: what time it is.
    :param sinks: school id → its ``[schools.ID.sink]`` settings: how long a concern written for the DSL team
        may wait to be confirmed as entered (a school not given has the defaults).
    """

    def __init__(self, *, store: Store, policies: Policies, service: VisitService,
                 staff: Mapping[str, Mapping[str, StaffMember]], notifiers: Sequence[Notifier], clock: Clock,
                 sinks: Mapping[str, SinkSettings] | None = None) -> None:
        self.store, self.policies, self.service = store, policies, service
        self.sinks = dict(sinks or {})
        self.staff, self.notifiers, self.clock = staff, list(notifiers), clock
        self.courier = Courier(store, self.notifiers, clock)
        self.reader = Reader()
        self._roles: dict[tuple[str, str], tuple[tuple[str, Recipient], ...]] = {}

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Watch:
        """The watch over the configured store, schools, staff directories and notifiers."""
        settings = runtime.settings
        notifiers = load_notifiers(runtime.pm, settings, settings.watch.notifiers.configured())
        return cls(store=runtime.store, policies=runtime.policies, service=VisitService.from_runtime(runtime),
                   staff={school.id: runtime.staff(school.id) for school in settings.schools},
                   notifiers=notifiers, clock=runtime.clock,
                   sinks={school.id: school.sink for school in settings.schools})

    def member(self, school: str, staff_id: str) -> StaffMember | None:
        """``staff_id`` in ``school``'s directory, if there."""
        return self.staff.get(school, {}).get(staff_id)

    # --- the policy, for one visit -----------------------------------------------------------

    def plan_and_chain(self, school: str, visit: Visit) -> tuple[CheckInPlan, list[EscalationStep]]:
        """The school's check-in plan and escalation chain for ``visit``."""
        return timetable.plan_and_chain(self.policies, school, visit)

    def recipients(self, school: str, staff: Sequence[StaffMember], who: Sequence[str]) -> tuple[Recipient, ...]:
        """The people ``who`` (roles) reaches: named staff from the directory, and the visiting ``staff``."""
        people: dict[str, Recipient] = {}
        for role in who:  # in the chain's order: the office before the headteacher
            if role == VISITING_STAFF:
                for member in staff:
                    people.setdefault(member.id, Recipient.of(member))
            else:
                for member_id, recipient in self._holding(school, role):
                    people.setdefault(member_id, recipient)
        return tuple(people.values())

    def _holding(self, school: str, role: str) -> tuple[tuple[str, Recipient], ...]:
        """Who in ``school``'s directory holds ``role`` (worked out once per school and role: a tick asks per event)."""
        found = self._roles.get((school, role))
        if found is None:
            found = self._roles[school, role] = tuple((m.id, Recipient.of(m)) for m in self.staff.get(school, {}).values()
                                                      if role in m.roles)
        return found

    # --- one tick ------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None, *, background: bool = False) -> TickResult:
        """Fire what is due at ``now`` (default: the clock), deliver what is undelivered, beat the heart.

        :param background: start sending and return without waiting for it (the daemon: a slow
            notifier must not hold up the next tick); what was sent in the background since the
            last tick is counted in this one. By default the tick waits for every send (cron).
        """
        started = _time.perf_counter()
        now = utc(now or self.clock.now())
        result = TickResult(at=now)
        self._count(result, self.courier.drain())
        cursor = self._queue_changes(now)
        while True:
            due = self._due(now)
            if not due:
                break
            with _collector_held():
                self._look_at(due, now, result)
        self._alarm_unconfirmed(now, result)
        if background:
            self.courier.start()
        else:
            self.deliver(result)
        result.seconds = _time.perf_counter() - started
        self._beat(now, cursor, result)
        return result

    def next_due(self) -> datetime | None:
        """When the queue says something next falls due (an index lookup)."""
        with self.store.connect() as conn:
            return conn.execute(select(func.min(watch_queue.c.due_at))).scalar_one_or_none()

    def _queue_changes(self, now: datetime) -> dict[str, Any]:
        """Queue every visit changed since the last tick (the first tick: every visit out); the new cursor.

        The cursor is the highest ``visit_events`` id read, plus the ids below it
        that were missing then: on PostgreSQL a transaction can commit a lower id
        after a higher one, so missing ids are looked for again on each tick for
        :data:`GAP_PATIENCE` (SQLite has one writer at a time and never leaves them).
        """
        def read_and_queue(conn: Connection) -> tuple[dict[str, Any], list[Any], int]:
            beat = conn.execute(select(heartbeats.c.detail).where(heartbeats.c.name == HEARTBEAT)).scalar_one_or_none()
            beat = beat or {}
            top = conn.execute(select(func.max(visit_events.c.id))).scalar_one_or_none() or 0
            if beat.get("cursor") is None:
                ids = conn.execute(select(visits.c.id).where(visits.c.state.in_([s.value for s in WATCHED]))).scalars().all()
                enqueue(conn, [(vid, now) for vid in sorted(ids)])
                return beat, [], top
            wanted = or_(and_(visit_events.c.id > beat["cursor"], visit_events.c.id <= top),
                         visit_events.c.id.in_([int(g) for g in beat.get("gaps") or {}]))
            rows = conn.execute(select(visit_events.c.id, visit_events.c.visit_id, visit_events.c.actor)
                                .where(wanted)).all()
            # The watch's own moves are left out: a visit it moved is already queued for its next event.
            enqueue(conn, [(vid, now) for vid in sorted({r.visit_id for r in rows if r.actor != ACTOR})])
            return beat, list(rows), top

        beat, rows, top = self.store.retrying(read_and_queue, what="queueing the visits that changed")
        cursor, gaps = beat.get("cursor"), dict(beat.get("gaps") or {})
        if cursor is None:
            return {"cursor": top, "gaps": {}}
        seen = {r.id for r in rows}
        since = now.isoformat()
        missing = {str(i): since for i in range(cursor + 1, top + 1) if i not in seen}
        missing.update({g: at for g, at in gaps.items()
                        if int(g) not in seen and now - datetime.fromisoformat(at) < GAP_PATIENCE})
        return {"cursor": max(top, cursor), "gaps": missing}

    def _due(self, now: datetime) -> list[TimedVisit]:
        with self.store.connect() as conn:
            ids = conn.execute(select(watch_queue.c.visit_id).where(watch_queue.c.due_at <= now)
                               .order_by(watch_queue.c.due_at).limit(BATCH)).scalars().all()
            return load_timetables(conn, ids, self.reader)

    def timetables(self, rows: Sequence[TimedVisit]) -> dict[str, Timetable]:
        """Visit id → the timetable of each of ``rows``: stored, or worked out from its whole visit (not stored)."""
        return self._work_out(rows)[0]

    def _work_out(self, rows: Sequence[TimedVisit]) -> tuple[dict[str, Timetable], set[str], list[tuple[str, int, dict[str, Any]]]]:
        """Each watched visit's timetable: stored, or worked out from its whole visit (and stored, if its policy answered).

        Also the visits watched with the core's default plan and chain (their policy could not be read).
        """
        found = {row.id: row.timetable for row in rows if row.timetable is not None}
        missing = {row.id: row.version for row in rows if row.timetable is None and row.state in WATCHED}
        defaulted: set[str] = set()
        to_store: list[tuple[str, int, dict[str, Any]]] = []
        if not missing:
            return found, defaulted, to_store
        with self.store.connect() as conn:
            whole = load_visits(conn, sorted(missing))
        for row in whole:
            columns, answered = timetable.ask(self.policies, row.visit)
            found[row.id] = self.reader.read(row.id, row.school, row.visit.planned_start, row.visit.expected_return,
                                             columns["timetable"], columns["timetable_shared"])
            if answered:
                to_store.append((row.id, missing[row.id], columns))
            else:
                defaulted.add(row.id)
        return found, defaulted, to_store

    def _look_at(self, rows: Sequence[TimedVisit], now: datetime, result: TickResult) -> None:
        """Assess a batch of visits, then move them on and record their events, all in one transaction.

        Reading, moving and recording take a few statements for the whole batch, not a few per visit.
        """
        with self.store.connect() as conn:
            fired = load_fired(conn, [row.id for row in rows])
        timetables, defaulted, to_store = self._work_out(rows)
        work: list[tuple[TimedVisit, Assessment | None, datetime | None]] = []
        for row in rows:
            result.checked += 1
            if row.state not in WATCHED:
                work.append((row, None, None))
                continue
            try:
                table = timetables[row.id]
                assessment = assess(table, table.plan, table.chain, fired[row.id], now)
            except Exception as exc:
                log.exception("cannot work out what is due for visit %s", row.id)
                result.failures.append(f"visit {row.id} ({row.school}) could not be checked: "
                                       f"{type(exc).__name__}: {exc}; retrying every minute — watch it by hand")
                work.append((row, None, now + RETRY_BROKEN))
                continue
            if row.id in defaulted:
                result.failures.append(f"visit {row.id} ({row.school}) is watched with the core's default chain: "
                                       f"its policy could not be read ({self.policies.unreadable(row.school)})")
            work.append((row, assessment, None))
        # Rows are written in visit order, so two watches recording the same visits on PostgreSQL take
        # their locks in the same order and queue behind each other instead of deadlocking.
        work.sort(key=lambda item: item[0].id)

        def write(conn: Connection) -> TickResult:
            with audit.batched(conn):  # the batch's moves and events: one read and write of the audit chain's tip
                return write_batch(conn)

        def write_batch(conn: Connection) -> TickResult:
            recorded = TickResult(at=now)  # afresh on each attempt: a rolled-back one recorded nothing
            next_looks: dict[str, datetime | None] = {}
            store_timetables(conn, to_store)
            ready: list[tuple[TimedVisit, Assessment]] = []
            overdue: list[tuple[TimedVisit, Assessment]] = []
            # The events left open on the visits no longer watched (reported, cancelled…) close, all at once.
            leaving = [row for row, assessed, retry_at in work if assessed is None and retry_at is None]
            left_open = open_keys(conn, [row.id for row in leaving])
            close(conn, [(row, key, f"visit {row.state}") for row in leaving for key in left_open[row.id]], now)
            for row, assessed, retry_at in work:
                if retry_at is not None:
                    next_looks[row.id] = retry_at
                elif assessed is None:
                    next_looks[row.id] = None
                else:
                    target = self.target(row.state, assessed, fired[row.id])
                    if target is None:
                        ready.append((row, assessed))
                    elif target is State.OVERDUE:
                        overdue.append((row, assessed))
                    elif self._move(row.id, target, recorded, conn):
                        ready.append((row, assessed))
                    else:  # the visit changed under us: look again on the next tick, with its new state
                        next_looks[row.id] = now + timedelta(microseconds=1)
            moved = set(self.service.mark_overdue_many(conn, [(row.id, row.school) for row, _ in overdue]))
            for row, assessed in overdue:
                if row.id in moved:
                    recorded.moved.append((row.id, State.OVERDUE.value))
                    ready.append((row, assessed))
                else:
                    log.info("visit %s moved on before the watch could mark it overdue", row.id)
                    next_looks[row.id] = now + timedelta(microseconds=1)
            ready.sort(key=lambda item: item[0].id)
            # The schedule's order within each visit: the same for every watch.
            self.record_all(conn, [(row.school, timetables[row.id].staff, event)
                                   for row, assessed in ready for event in assessed.events], now, recorded)
            recorded.closed += close(conn, [(row, closure.key, closure.reason)
                                            for row, assessed in ready for closure in assessed.closures], now)
            for row, assessed in ready:
                next_looks[row.id] = assessed.next_due
            reschedule(conn, next_looks)
            return recorded

        recorded = self.store.retrying(write, what="recording the watch's events")
        result.fired.extend(recorded.fired)
        result.moved.extend(recorded.moved)
        result.closed += recorded.closed

    def _alarm_unconfirmed(self, now: datetime, result: TickResult) -> None:
        """Fire (once) the alarm for each concern written for the DSL team and not confirmed as entered in time."""
        def write(conn: Connection) -> TickResult:
            recorded = TickResult(at=now)  # afresh on each attempt: a rolled-back one recorded nothing
            self.record_all(conn, [(school, (), event) for school, event in entry.due_alarms(conn, self.sinks, now)],
                            now, recorded)
            return recorded

        result.fired.extend(self.store.retrying(write, what="the alarms for concerns not confirmed as entered").fired)

    @staticmethod
    def target(state: str, assessment: Assessment, fired: Mapping[str, Fired]) -> State | None:
        """Where the visit's open events put it (overdue, escalated), if further on than ``state``; else ``None``."""
        now = _ALONG.get(state)
        if now is None:
            return None
        closing = {c.key for c in assessment.closures}
        still_open = [f for f in fired.values() if f.closed_at is None and f.key not in closing]
        reached = [state_for(f.kind, f.step_index) for f in still_open]
        reached += [state_for(e.kind, e.step_index) for e in assessment.events]
        target = max(reached, key=_ALONG.__getitem__, default=State.SIGNED_OUT)
        return target if _ALONG[target] > now else None

    def move(self, visit_id: str, state: str, assessment: Assessment, fired: Mapping[str, Fired],
             result: TickResult) -> bool:
        """Bring one visit's state up to what its open events say (overdue, escalated), before recording them.

        ``False`` when the visit moved on before the watch could mark it.
        """
        target = self.target(state, assessment, fired)
        return target is None or self._move(visit_id, target, result)

    def _move(self, visit_id: str, target: State, result: TickResult, conn: Connection | None = None) -> bool:
        """Move the visit to ``target`` through the lifecycle (in ``conn``, when given); ``False`` if it changed first."""
        try:
            if target is State.OVERDUE:
                self.service.mark_overdue(visit_id, conn=conn)
            else:
                self.service.mark_escalated(visit_id, note="escalation chain running", conn=conn)
        except RefusedError as exc:
            log.info("visit %s moved on before the watch could mark it: %s", visit_id, exc)
            return False
        result.moved.append((visit_id, target.value))
        return True

    def record(self, conn: Connection, school: str, visit: Timed, event: DueEvent, now: datetime,
               result: TickResult | None = None, *, actor: str = ACTOR,
               action: str = "escalation.fired") -> int | None:
        """Insert ``event`` (once: its key is unique) with a notification row per notifier and address."""
        return self.record_all(conn, [(school, visit.staff, event)], now, result, actor=actor, action=action)[0]

    def record_all(self, conn: Connection, due: Sequence[tuple[str, Sequence[StaffMember], DueEvent]], now: datetime,
                   result: TickResult | None = None, *, actor: str = ACTOR,
                   action: str = "escalation.fired") -> list[int | None]:
        """Insert each event (school, visiting staff, event) — once: its key is unique — with its notifications.

        One statement for the events, one for their notifications, and their audit entries; the new
        events' ids in ``due``'s order (``None`` for one another watch fired first).
        """
        if not due:
            return []
        rows = []
        for school, _, event in due:
            reminder = event.kind == "checkin-reminder"  # a reminder is sent, not acknowledged: closed at once
            rows.append({
                "visit_id": event.visit_id, "kind": event.kind, "step_index": event.step_index, "episode": event.episode,
                "key": event.key, "due_at": event.due_at, "fired_at": now, "school_id": school, "who": list(event.who),
                "message": event.text, "closed_at": now if reminder else None, "note": "reminder sent" if reminder else None,
                "escalated_by": None if actor == ACTOR else actor,
            })
        inserted: dict[str, int] = dict(insert_rows(conn, escalations, rows, conflict=["key"], returning=["key", "id"]))
        messages: list[dict[str, Any]] = []
        for school, staff, event in due:
            new_id = inserted.get(event.key)
            if new_id is None:
                continue  # another watch fired it first
            notice = Notice(escalation_id=new_id, key=event.key, kind=event.kind, school_id=school,
                            visit_id=event.visit_id, step_index=event.step_index, due_at=event.due_at, who=event.who,
                            text=event.text, recipients=self.recipients(school, staff, event.who))
            reached = []
            for notifier in self.notifiers:
                addresses = notifier.addresses(notice)
                messages += [{"escalation_id": new_id, "notifier": notifier.name, "recipient": a, "status": "pending",
                              "attempts": 0, "last_error": None} for a in addresses]
                if addresses:
                    reached.append(notifier.name)
            messages += [{"escalation_id": new_id, "notifier": n.name, "recipient": None, "status": "unreachable",
                          "attempts": 0, "last_error": "nobody on this step has an address for it"}
                         for n in self.notifiers if n.name not in reached]
            if event.kind != "checkin-reminder":  # the chain's steps are decisions on record; a reminder is only a nudge
                audit.append(conn, actor=actor, action=action, school_id=school, visit_id=event.visit_id,
                             at=now, detail={"escalation_id": new_id, "key": event.key, "kind": event.kind,
                                             "step": event.step_index, "who": list(event.who)})
            if result is not None:
                result.fired.append(FiredEvent(new_id, event.key, event.kind, event.visit_id, event.step_index,
                                               event.due_at))
        insert_rows(conn, notifications, messages)
        return [inserted.get(event.key) for _, _, event in due]

    # --- delivery ------------------------------------------------------------------------------

    def deliver(self, result: TickResult) -> None:
        """Send every claimable notification and wait: each claimed, sent and recorded one at a time."""
        self._count(result, self.courier.deliver())

    def _count(self, result: TickResult, done: Delivered) -> None:
        result.delivered += done.sent
        result.failures.extend(done.failures)

    def _beat(self, now: datetime, cursor: dict[str, Any], result: TickResult) -> None:
        detail = {**cursor, "checked": result.checked, "fired": len(result.fired), "closed": result.closed,
                  "delivered": result.delivered, "failures": len(result.failures), "seconds": round(result.seconds, 4)}

        def beat(conn: Connection) -> None:
            upsert(conn, heartbeats, {"name": HEARTBEAT, "at": now, "detail": detail}, ["name"])
            # Each watch's own row, so `hvc status` lists every watch alive (a trust may run one per host).
            upsert(conn, heartbeats, {"name": self.courier.owner, "at": now,
                                      "detail": {k: v for k, v in detail.items() if k not in ("cursor", "gaps")}},
                   ["name"])

        self.store.retrying(beat, what="the watch's heartbeat")
        log.info("watch tick at %s: checked %d, fired %d, closed %d, delivered %d, %d failures", now.isoformat(),
                 result.checked, len(result.fired), result.closed, result.delivered, len(result.failures))


# --- small helpers -------------------------------------------------------------------------------


@contextmanager
def _collector_held() -> Iterator[None]:
    """Hold Python's cycle collector off in the block (a batch of visits); as it was, after.

    A thousand-visit batch allocates some hundred thousand objects, nearly all freed as they go by their
    counts; the collector's passes they set off walk what the process holds besides (SQLAlchemy's, the
    plugins'): some 50 gen-0 and 5 gen-1 passes, and now and then a full one of 50 ms, inside the batch.
    What little the batch leaves in cycles is collected by the first pass after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()



def tick(runtime: Runtime, now: datetime | None = None) -> TickResult:
    """One tick of the watch over the runtime's store (``hvc watch --once``)."""
    return Watch.from_runtime(runtime).tick(now)


