"""``hvc watch``: turn the clock into check-in reminders and escalations, along each school's chain.

One :meth:`Watch.tick` does, in order:

1. **Notice changes.** Every lifecycle action writes a ``visit_events`` row;
   the visits named by rows newer than the watch's cursor (kept in its
   heartbeat) go into ``watch_queue`` to be looked at now. The first tick ever
   queues every visit that is out.
2. **Look at what is due.** Only queue rows with ``due_at <= now`` are read
   (an index range), so a tick costs what is due, not what is stored. For each
   visit, :func:`hv_connector.watch.schedule.assess` says, from state alone, which
   events are due, which open ones no longer apply, and when to look again.
3. **Move the visit on first** (overdue, escalated) through the lifecycle
   (audited). A crash after this leaves a ``visit_events`` row, so the visit is
   looked at again on the next tick.
4. **Record, then notify.** In one transaction: insert each event into
   ``escalations`` (its unique key makes it fire once, even across crashes and
   two watches at once), one ``notifications`` row per notifier and address,
   the audit entries, the closures, and the visit's next look in the queue.
   Only then are notifiers called; a failure is retried on later ticks and
   never stops the watch. The escalation is on the board either way.
5. **Heartbeat.** ``heartbeats['watch']`` records the tick, so ``hvc status``
   can say when the watch has stopped (a stopped watch is itself an alarm).

``hvc watch --once`` (cron) and ``hvc watch`` (a daemon) run the same tick;
the schedule depends on state only, so they fire the same events.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hv_connector.store import audit
from hv_connector.outbox.push import Pusher
from hv_connector.outbox.sinks import open_sinks
from hv_connector.clock import Clock
from hv_connector.errors import RefusedError
from hv_connector.models import CheckInPlan, EscalationStep, StaffMember, Visit
from hv_connector.watch.notify import Notice, Notifier, Recipient, load_notifiers
from hv_connector.plugins import Policies, merged_registry
from hv_connector.runtime import Runtime
from hv_connector.watch.schedule import (
    VISITING_STAFF,
    Assessment,
    DueEvent,
    Fired,
    assess,
    utc,
)
from hv_connector.store import Store
from hv_connector.store.schema import (
    HEARTBEAT,
    escalations,
    heartbeats,
    notifications,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.visits.service import VisitService
from hv_connector.visits.directory import WATCH

log = logging.getLogger("hv_connector.watch")

LIVE_STATES = ("signed-out", "overdue", "escalated")
"""Visits that are out: the watch looks after these."""
WATCHED_STATES = (*LIVE_STATES, "returned")
"""Also ``returned``: a plan may expect a "home safe" call after staff are back."""
STOOD_DOWN = "stood down by "
"""How a stand-down's note begins: the schedule tells a person's all-clear from the watch's own closing."""
ACTOR = WATCH
"""Who the audit log says acted: the same actor the lifecycle records for the watch's moves."""
MAX_ATTEMPTS = 5
"""A notification is tried on this many ticks before it is reported as failed."""
BATCH = 500
"""Visits looked at per transaction batch."""
RETRY_BROKEN = timedelta(minutes=1)
"""How soon a visit whose policy raised is looked at again (and reported again)."""
GAP_PATIENCE = timedelta(minutes=10)
"""How long a missing ``visit_events`` id is looked for (a transaction still open, on PostgreSQL)."""
MIN_WAIT_SECONDS = 0.05
"""The daemon never spins faster than this, whatever the queue says."""

_LEVEL = {"signed-out": 0, "overdue": 1, "escalated": 2}


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


class Watch:
    """The watch over one store: what it needs, and the tick.

    :param store: the store.
    :param policies: each school's policy (check-in plan, escalation chain).
    :param service: the visit lifecycle (the watch moves visits through it, audited).
    :param staff: school id → staff id → member: who each role reaches.
    :param notifiers: how events reach people (see :mod:`hv_connector.watch.notify`).
    :param clock: what time it is.
    """

    def __init__(self, *, store: Store, policies: Policies, service: VisitService,
                 staff: Mapping[str, Mapping[str, StaffMember]], notifiers: Sequence[Notifier], clock: Clock) -> None:
        self.store, self.policies, self.service = store, policies, service
        self.staff, self.notifiers, self.clock = staff, list(notifiers), clock

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Watch:
        """The watch over the configured store, schools, staff directories and notifiers."""
        settings = runtime.settings
        notifiers = load_notifiers(runtime.pm, settings, settings.watch.notifiers.configured())
        return cls(store=runtime.store, policies=runtime.policies, service=VisitService.from_runtime(runtime),
                   staff={school.id: runtime.staff(school.id) for school in settings.schools},
                   notifiers=notifiers, clock=runtime.clock)

    def member(self, school: str, staff_id: str) -> StaffMember | None:
        """``staff_id`` in ``school``'s directory, if there."""
        return self.staff.get(school, {}).get(staff_id)

    # --- the policy, for one visit -----------------------------------------------------------

    def plan_and_chain(self, school: str, visit: Visit) -> tuple[CheckInPlan, list[EscalationStep]]:
        """The school's check-in plan and escalation chain for ``visit``."""
        plan = self.policies.ask(school, "checkin_plan", visit=visit)
        chain = self.policies.ask(school, "escalation_chain", visit=visit)
        return plan, list(chain)

    def recipients(self, school: str, visit: Visit, who: Sequence[str]) -> tuple[Recipient, ...]:
        """The people ``who`` (roles) reaches: named staff from the directory, and the visiting staff."""
        people: dict[str, Recipient] = {}
        for role in who:  # in the chain's order: the office before the headteacher
            members = visit.staff if role == VISITING_STAFF else [
                m for m in self.staff.get(school, {}).values() if role in m.roles]
            for member in members:
                people.setdefault(member.id, _recipient(member))
        return tuple(people.values())

    # --- one tick ------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickResult:
        """Fire what is due at ``now`` (default: the clock), deliver what is undelivered, beat the heart."""
        started = _time.perf_counter()
        now = utc(now or self.clock.now())
        result = TickResult(at=now)
        cursor = self._queue_changes(now)
        while True:
            due = self._due(now)
            if not due:
                break
            self._look_at(due, now, result)
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
        with self.store.begin() as conn:
            beat = conn.execute(select(heartbeats.c.detail).where(heartbeats.c.name == HEARTBEAT)).scalar_one_or_none()
            cursor, gaps = (beat or {}).get("cursor"), dict((beat or {}).get("gaps") or {})
            top = conn.execute(select(func.max(visit_events.c.id))).scalar_one_or_none() or 0
            if cursor is None:
                ids = conn.execute(select(visits.c.id).where(visits.c.state.in_(WATCHED_STATES))).scalars().all()
                _enqueue(conn, [(vid, now) for vid in ids])
                return {"cursor": top, "gaps": {}}
            wanted = or_(and_(visit_events.c.id > cursor, visit_events.c.id <= top),
                         visit_events.c.id.in_([int(g) for g in gaps]))
            rows = conn.execute(select(visit_events.c.id, visit_events.c.visit_id, visit_events.c.actor)
                                .where(wanted)).all()
            # The watch's own moves are left out: a visit it moved is already queued for its next event.
            _enqueue(conn, [(vid, now) for vid in {r.visit_id for r in rows if r.actor != ACTOR}])
        seen = {r.id for r in rows}
        since = now.isoformat()
        missing = {str(i): since for i in range(cursor + 1, top + 1) if i not in seen}
        missing.update({g: at for g, at in gaps.items()
                        if int(g) not in seen and now - datetime.fromisoformat(at) < GAP_PATIENCE})
        return {"cursor": max(top, cursor), "gaps": missing}

    def _due(self, now: datetime) -> list[WatchedVisit]:
        with self.store.connect() as conn:
            ids = conn.execute(select(watch_queue.c.visit_id).where(watch_queue.c.due_at <= now)
                               .order_by(watch_queue.c.due_at).limit(BATCH)).scalars().all()
            return load_visits(conn, ids)

    @staticmethod
    def fired(conn: Connection, visit_ids: Sequence[str]) -> dict[str, dict[str, Fired]]:
        """The events recorded for each of ``visit_ids``: visit id → key → event."""
        found: dict[str, dict[str, Fired]] = {vid: {} for vid in visit_ids}
        rows = conn.execute(select(escalations.c.visit_id, escalations.c.key, escalations.c.due_at,
                                   escalations.c.closed_at, escalations.c.note)
                            .where(escalations.c.visit_id.in_(visit_ids)))
        for r in rows:
            stood_down = r.closed_at is not None and (r.note or "").startswith(STOOD_DOWN)
            found[r.visit_id][r.key] = Fired(r.key, r.due_at, r.closed_at, stood_down)
        return found

    def _look_at(self, rows: Sequence[WatchedVisit], now: datetime, result: TickResult) -> None:
        """Assess a batch of visits, move each on (its own audited transaction), then record them in one."""
        with self.store.connect() as conn:
            fired = self.fired(conn, [row.id for row in rows])
        work: list[tuple[WatchedVisit, Assessment | None, datetime | None]] = []
        for row in rows:
            result.checked += 1
            if row.state not in WATCHED_STATES:
                work.append((row, None, None))
                continue
            try:
                plan, chain = self.plan_and_chain(row.school, row.visit)
                assessment = assess(row.visit, plan, chain, fired[row.id], now)
            except Exception as exc:
                log.exception("cannot work out what is due for visit %s", row.id)
                result.failures.append(f"visit {row.id} ({row.school}) could not be checked: "
                                       f"{type(exc).__name__}: {exc}; retrying every minute — watch it by hand")
                work.append((row, None, now + RETRY_BROKEN))
                continue
            if row.state in LIVE_STATES and not self.move(row, assessment, fired[row.id], result):
                # The visit changed under us: look again on the next tick, with its new state.
                work.append((row, None, now + timedelta(microseconds=1)))
                continue
            work.append((row, assessment, None))
        next_looks: dict[str, datetime | None] = {}
        with self.store.begin() as conn:
            for row, assessment, retry_at in work:
                if retry_at is not None:
                    next_looks[row.id] = retry_at
                elif assessment is None:
                    self._close_all(conn, row, now, f"visit {row.state}")
                    next_looks[row.id] = None
                else:
                    for event in assessment.events:
                        self.record(conn, row.school, row.visit, event, now, result)
                    for closure in assessment.closures:
                        result.closed += _close(conn, row, closure.key, closure.reason, now)
                    next_looks[row.id] = assessment.next_due
            _reschedule(conn, next_looks)

    def move(self, row: WatchedVisit, assessment: Assessment, fired: Mapping[str, Fired], result: TickResult) -> bool:
        """Bring the visit's state up to what its open events say (overdue, escalated), before recording them."""
        closing = {c.key for c in assessment.closures}
        open_keys = [k for k, f in fired.items() if f.closed_at is None and k not in closing]
        want = max([_level_of(k) for k in open_keys] + [_event_level(e) for e in assessment.events], default=0)
        if want <= _LEVEL[row.state]:
            return True
        try:
            if want == 1:
                self.service.mark_overdue(row.id)
            else:
                self.service.mark_escalated(row.id, note="escalation chain running")
        except RefusedError as exc:
            log.info("visit %s moved on before the watch could mark it: %s", row.id, exc)
            return False
        result.moved.append((row.id, "overdue" if want == 1 else "escalated"))
        return True

    def record(self, conn: Connection, school: str, visit: Visit, event: DueEvent, now: datetime,
               result: TickResult | None = None, *, actor: str = ACTOR,
               action: str = "escalation.fired") -> int | None:
        """Insert ``event`` (once: its key is unique) with a notification row per notifier and address."""
        reminder = event.kind == "checkin-reminder"  # a reminder is sent, not acknowledged: closed at once
        inserted = conn.execute(
            _insert(conn, escalations).values(
                visit_id=event.visit_id, kind=event.kind, step_index=event.step_index, key=event.key,
                due_at=event.due_at, fired_at=now, school_id=school, who=list(event.who), message=event.text,
                closed_at=now if reminder else None, note="reminder sent" if reminder else None,
            ).on_conflict_do_nothing(index_elements=["key"]).returning(escalations.c.id)
        ).scalar_one_or_none()
        if inserted is None:
            return None  # another watch fired it first
        notice = Notice(escalation_id=inserted, key=event.key, kind=event.kind, school_id=school,
                        visit_id=event.visit_id, step_index=event.step_index, due_at=event.due_at, who=event.who,
                        text=event.text, recipients=self.recipients(school, visit, event.who))
        rows = [{"escalation_id": inserted, "notifier": n.name, "recipient": a, "status": "pending", "attempts": 0}
                for n in self.notifiers for a in n.addresses(notice)]
        reached = {r["notifier"] for r in rows}
        rows += [{"escalation_id": inserted, "notifier": n.name, "recipient": None, "status": "unreachable",
                  "attempts": 0, "last_error": "nobody on this step has an address for it"}
                 for n in self.notifiers if n.name not in reached]
        if rows:
            conn.execute(notifications.insert(), rows)
        if not reminder:  # the chain's steps are decisions on record; a reminder is only a nudge
            audit.append(conn, actor=actor, action=action, school_id=school, visit_id=event.visit_id,
                         at=now, detail={"escalation_id": inserted, "key": event.key, "kind": event.kind,
                                         "step": event.step_index, "who": list(event.who)})
        if result is not None:
            result.fired.append(FiredEvent(inserted, event.key, event.kind, event.visit_id, event.step_index,
                                           event.due_at))
        return inserted

    def _close_all(self, conn: Connection, row: WatchedVisit, now: datetime, reason: str) -> None:
        keys = conn.execute(select(escalations.c.key).where(escalations.c.visit_id == row.id,
                                                              escalations.c.closed_at.is_(None))).scalars().all()
        for key in keys:
            _close(conn, row, key, reason, now)

    # --- delivery ------------------------------------------------------------------------------

    def deliver(self, result: TickResult) -> None:
        """Send every pending or retrying notification; record each outcome."""
        by_name = {n.name: n for n in self.notifiers}
        outcomes: list[tuple[int, dict[str, Any]]] = []
        with self.store.connect() as conn:
            rows = conn.execute(
                select(notifications.c.id, notifications.c.notifier, notifications.c.recipient,
                       notifications.c.attempts, escalations.c.id.label("escalation_id"), escalations.c.key,
                       escalations.c.school_id,
                       escalations.c.visit_id, escalations.c.kind, escalations.c.step_index, escalations.c.due_at,
                       escalations.c.who, escalations.c.message)
                .join(escalations, escalations.c.id == notifications.c.escalation_id)
                .where(notifications.c.status.in_(("pending", "retrying")))
                .order_by(notifications.c.id)
            ).mappings().all()
        for row in rows:
            notifier = by_name.get(row["notifier"])
            if notifier is None:  # configured out since: say so once, and stop asking
                outcomes.append((row["id"], {"status": "failed", "last_error": "notifier no longer configured"}))
                continue
            notice = Notice(escalation_id=row["escalation_id"], key=row["key"], kind=row["kind"],
                            school_id=row["school_id"] or "", visit_id=row["visit_id"], step_index=row["step_index"],
                            due_at=row["due_at"], who=tuple(row["who"] or ()), text=row["message"] or "")
            attempts = row["attempts"] + 1
            try:
                notifier.send(notice, row["recipient"])
            except Exception as exc:  # noqa: BLE001 - any notifier failure is reported and retried, never fatal
                status = "failed" if attempts >= MAX_ATTEMPTS else "retrying"
                error = f"{type(exc).__name__}: {exc}"[:500]
                result.failures.append(f"{notifier.name} to {row['recipient']} (escalation {row['escalation_id']}): "
                                       f"{error}" + ("; giving up" if status == "failed" else "; will retry"))
                log.warning("notifier %s failed for escalation %s (attempt %d): %s", notifier.name,
                            row["escalation_id"], attempts, error)
                values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
            else:
                result.delivered += 1
                values = {"status": "sent", "attempts": attempts, "last_error": None, "sent_at": utc(self.clock.now())}
            outcomes.append((row["id"], values))
        # One write for the lot: a crash before it means a notification is sent again, never lost.
        with self.store.begin() as conn:
            for notification_id, values in outcomes:
                conn.execute(update(notifications).where(notifications.c.id == notification_id).values(**values))

    def _beat(self, now: datetime, cursor: dict[str, Any], result: TickResult) -> None:
        detail = {**cursor, "checked": result.checked, "fired": len(result.fired), "closed": result.closed,
                  "delivered": result.delivered, "failures": len(result.failures), "seconds": round(result.seconds, 4)}
        with self.store.begin() as conn:
            _upsert(conn, heartbeats, {"name": HEARTBEAT, "at": now, "detail": detail}, ["name"])
        log.info("watch tick at %s: checked %d, fired %d, closed %d, delivered %d, %d failures", now.isoformat(),
                 result.checked, len(result.fired), result.closed, result.delivered, len(result.failures))


# --- small helpers -------------------------------------------------------------------------------


def _recipient(member: StaffMember) -> Recipient:
    return Recipient(member.name, member.roles, member.email, member.mobile, member.id)


def _level_of(key: str) -> int:
    """How far an open event takes a visit: a chain's first step makes it overdue, anything later escalated."""
    if "/remind/" in key:
        return 0
    if "/code@" in key or not key.endswith("/step/0"):
        return 2
    return 1


def _event_level(event: DueEvent) -> int:
    if event.kind == "checkin-reminder":
        return 0
    if event.kind in ("code-word", "chain-exhausted") or event.step_index > 0:
        return 2
    return 1


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _upsert(conn: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    statement = _insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=keys,
                                                 set_={k: v for k, v in values.items() if k not in keys}))


def _enqueue(conn: Connection, due: Sequence[tuple[str, datetime]]) -> None:
    """Queue visits to be looked at (an earlier time already queued wins)."""
    if not due:
        return
    statement = _insert(conn, watch_queue)
    earlier = (func.min if conn.dialect.name == "sqlite" else func.least)(watch_queue.c.due_at,
                                                                          statement.excluded.due_at)
    conn.execute(statement.on_conflict_do_update(index_elements=["visit_id"], set_={"due_at": earlier}),
                 [{"visit_id": visit_id, "due_at": at} for visit_id, at in due])


def _reschedule(conn: Connection, next_looks: Mapping[str, datetime | None]) -> None:
    """Set when the watch next looks at each visit; ``None``: never again (until the visit changes)."""
    drop = [visit_id for visit_id, at in next_looks.items() if at is None]
    keep = [{"visit_id": visit_id, "due_at": at} for visit_id, at in next_looks.items() if at is not None]
    if drop:
        conn.execute(delete(watch_queue).where(watch_queue.c.visit_id.in_(drop)))
    if keep:
        statement = _insert(conn, watch_queue)
        conn.execute(statement.on_conflict_do_update(index_elements=["visit_id"],
                                                     set_={"due_at": statement.excluded.due_at}), keep)


def _close(conn: Connection, row: WatchedVisit, key: str, reason: str, now: datetime) -> int:
    closed = conn.execute(update(escalations).where(escalations.c.key == key, escalations.c.closed_at.is_(None))
                          .values(closed_at=now, note=func.coalesce(escalations.c.note, reason))).rowcount
    if closed:
        audit.append(conn, actor=ACTOR, action="escalation.closed", school_id=row.school, visit_id=row.id, at=now,
                     detail={"key": key, "reason": reason})
    return closed


def enqueue_now(conn: Connection, visit_id: str, now: datetime) -> None:
    """Have the next tick look at ``visit_id`` (after a person changed its escalations)."""
    _enqueue(conn, [(visit_id, now)])


def tick(runtime: Runtime, now: datetime | None = None) -> TickResult:
    """One tick of the watch over the runtime's store (``hvc watch --once``)."""
    return Watch.from_runtime(runtime).tick(now)


CONCERN_POLL_SECONDS = 0.5
"""How often the daemon looks for new safeguarding concerns between ticks."""


def run_daemon(the_watch: Watch, interval: float, push_concerns: Callable[[], None] | None = None, *,
               on_tick: Callable[[TickResult], None] = lambda _r: None,
               stop: threading.Event | None = None) -> None:
    """Tick until SIGTERM/SIGINT (or ``stop``), finishing the tick in hand.

    The daemon wakes every ``interval`` seconds (to notice new sign-outs and
    check-ins), or sooner when the queue says an event falls due before then,
    so an event fires when it falls due, not up to a tick later.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signum, _frame: stop.set())
    log.info("watch started: a tick every %s seconds", interval)
    while not stop.is_set():
        started = _time.monotonic()
        wait = interval
        try:
            on_tick(the_watch.tick())
            if push_concerns is not None:
                push_concerns()
            wait -= _time.monotonic() - started
            upcoming = the_watch.next_due()
            if upcoming is not None:
                wait = min(wait, (upcoming - utc(the_watch.clock.now())).total_seconds())
        except Exception:  # the watch must outlive a bad tick (the database restarting, a plugin bug)
            log.exception("watch tick failed; trying again in %s seconds", interval)
        _wait_pushing_concerns(stop, max(MIN_WAIT_SECONDS, wait), push_concerns)
    log.info("watch stopped")


def _wait_pushing_concerns(stop: threading.Event, seconds: float, push_concerns: Callable[[], None] | None) -> None:
    """Wait ``seconds`` (or until stopped), looking for new concerns every :data:`CONCERN_POLL_SECONDS`.

    A concern written just after a tick must not wait for the next one: it goes
    to the DSL through CPOMS within a poll, well inside one tick interval. The
    look is one indexed query for a due priority-0 outbox record.
    """
    deadline = _time.monotonic() + seconds
    while not stop.is_set():
        remaining = deadline - _time.monotonic()
        if remaining <= 0:
            return
        if stop.wait(min(remaining, CONCERN_POLL_SECONDS) if push_concerns else remaining):
            return
        if push_concerns is not None:
            try:
                push_concerns()
            except Exception:  # a CPOMS or database hiccup must not stop the watch; the next poll retries
                log.exception("pushing concerns failed; trying again in %s seconds", CONCERN_POLL_SECONDS)


def concern_pusher(rt: Runtime) -> Callable[[], None] | None:
    """Push due safeguarding concerns to CPOMS (what ``hvc push --concerns-only`` does), if any school has CPOMS."""
    if not any(school.cpoms for school in rt.settings.schools):
        return None
    sink_for = open_sinks(rt.settings, merged_registry(rt.pm, "report_sinks"), rt.settings.schools)
    pusher = Pusher(rt.store, sink_for, now=rt.clock.now)

    def push() -> None:
        if pusher.due(concerns_only=True, limit=1):
            summary = asyncio.run(pusher.run(concerns_only=True))
            log.info("pushed concerns: sent %d, waiting %d", summary.count("sent"), summary.count("waiting"))

    return push
