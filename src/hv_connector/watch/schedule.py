"""What is due on a visit, worked out from its state alone.

This module is pure: no store, no clock, no plugins. Given a visit, the
school's check-in plan and escalation chain, the events already fired (from
the ``escalations`` table) and a moment, :func:`assess` says which events are
due now, which open events no longer apply (and why), and when the next one
falls due. Because the answer depends only on state, a watch run from cron
every five minutes and a daemon ticking every thirty seconds fire the same
events with the same keys, and a watch restarted after a crash resumes exactly
where it was.

Every time is handled as an absolute (UTC) instant; only the words shown to
people use the London wall clock. A visit across the October clock change is
therefore neither escalated an hour early nor an hour late.

The pieces:

* **Check-in steps** of the plan fall due at their anchor plus offset. A
  reminder fires ``reminder_minutes`` before; a step not met by a matching
  check-in ``grace_minutes`` after it fell due starts an escalation episode.
* **Overdue**: not back ``grace_minutes`` after the expected return starts
  an episode.
* **Code word**: a check-in made with the code word starts an episode at the
  chain's emergency step, at once.
* **Episodes** run the chain: step 0 when triggered, each next step when the
  previous step's ``wait_minutes`` have passed (counted from when that step was
  due, so the cadence of the watch never shifts the timetable), and, when the
  chain runs out, a ``chain-exhausted`` alert to everyone on it. One episode
  runs per visit at a time; a code word pre-empts any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol

from hv_connector import humanize
from hv_connector.clock import utc
from hv_connector.models import CheckInPlan, CheckInStep, EscalationStep, StaffMember
from hv_connector.rules import CONTACT_KINDS
from hv_connector.visits.lifecycle import State

EventKind = Literal["checkin-reminder", "checkin-missed", "overdue", "code-word", "chain-exhausted", "entry-unconfirmed"]
TriggerKind = Literal["checkin-missed", "overdue", "code-word"]

EXHAUSTED_AFTER_MINUTES = 15
"""When the chain's last step has no time limit of its own, everyone is alerted this long after it."""

VISITING_STAFF = "visiting-staff"
"""The role name plans use for the staff out on the visit."""


class Contact(Protocol):
    """A check-in, as the schedule reads it."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def code_word_used(self) -> bool: ...


class Timed(Protocol):
    """A visit, as the schedule reads it: a :class:`~hv_connector.models.Visit`, or the watch's
    :class:`~hv_connector.visits.timetable.Timetable` of one (its handful of fields, without the document)."""

    @property
    def id(self) -> str | None: ...
    @property
    def planned_start(self) -> datetime: ...
    @property
    def expected_return(self) -> datetime | None: ...
    @property
    def signed_out_at(self) -> datetime | None: ...
    @property
    def returned_at(self) -> datetime | None: ...
    @property
    def returning_to_school(self) -> bool: ...
    @property
    def check_ins(self) -> Sequence[Contact]: ...
    @property
    def staff(self) -> Sequence[StaffMember]: ...


@dataclass(frozen=True)
class DueEvent:
    """One event to fire now: a reminder, a step of the chain, or the chain running out.

    ``key`` is stable: the same event computed on any tick, by any process,
    has the same key, so the unique ``escalations.key`` makes it fire once.
    """

    key: str
    visit_id: str
    kind: EventKind
    step_index: int
    due_at: datetime
    """When it fell due (UTC)."""
    who: tuple[str, ...]
    """Roles to reach (``visiting-staff`` means the staff on the visit)."""
    text: str
    """What the people reached read: who, what to do. Never the code word, never the pupil."""
    episode: str | None = None
    """The escalation episode this step belongs to; ``None`` for reminders."""
    emergency: bool = False


def state_for(kind: EventKind, step_index: int) -> State:
    """Where an open event puts its visit: a reminder leaves it out, a chain's first step makes it overdue.

    A code word, any later step, and the chain running out make it escalated. A concern not yet confirmed as
    entered in CPOMS (:mod:`hv_connector.watch.entry`) is the DSL team's to act on, not the visit's.
    """
    if kind in ("checkin-reminder", "entry-unconfirmed"):
        return State.SIGNED_OUT
    if kind in ("code-word", "chain-exhausted") or step_index > 0:
        return State.ESCALATED
    return State.OVERDUE


@dataclass(frozen=True)
class Fired:
    """An event already recorded in the ``escalations`` table (the part the schedule needs).

    What the event is (``kind``, ``step_index``, ``episode``) is stored beside
    its ``key``, so the key is only ever compared, never taken apart.
    """

    key: str
    kind: EventKind
    step_index: int
    episode: str | None
    """The escalation episode it belongs to; ``None`` for a reminder."""
    due_at: datetime
    closed_at: datetime | None = None
    stood_down: bool = False
    """Closed by a person saying staff are safe (not by the watch finding it no longer applies)."""

    @classmethod
    def of(cls, event: DueEvent, *, closed_at: datetime | None = None) -> Fired:
        """``event`` as recorded when it fired (and closed at ``closed_at``, if given)."""
        return cls(event.key, event.kind, event.step_index, event.episode, event.due_at, closed_at)

    def closed(self, at: datetime) -> Fired:
        """This event, closed at ``at`` by the watch (no longer applying)."""
        return replace(self, closed_at=at)


@dataclass(frozen=True)
class Closure:
    """An open event that no longer applies, and the reason shown beside it."""

    key: str
    reason: str


@dataclass(frozen=True)
class Assessment:
    """What the schedule says about one visit at one moment."""

    events: tuple[DueEvent, ...] = ()
    closures: tuple[Closure, ...] = ()
    next_due: datetime | None = None
    """The earliest moment after ``now`` something may fall due (UTC), or ``None`` if nothing ever will."""


@dataclass(frozen=True)
class _Trigger:
    episode: str
    kind: TriggerKind
    at: datetime
    subject: str = ""
    """What was missed (a check-in step's description; empty for an overdue return or a code word)."""
    subject_due: datetime | None = None
    """When it was due (the check-in, or the expected return)."""

    @property
    def what(self) -> str:
        """What was missed, and when it was due, as people read it (worked out only for an event that fires)."""
        if self.subject_due is None:
            return ""
        if self.kind == "overdue":
            return f"due back {wall(self.subject_due)}"
        return f"{self.subject} (due {wall(self.subject_due)})"


@dataclass
class _Plan:
    """The plan's steps resolved against the visit: due times and which are met."""

    reminders: list[tuple[str, datetime, datetime, CheckInStep]] = field(default_factory=list)
    triggers: list[_Trigger] = field(default_factory=list)


@lru_cache(maxsize=256)
def _minutes(count: int) -> timedelta:
    """``count`` minutes (the same few, from plans and chains, for every visit: made once each)."""
    return timedelta(minutes=count)


def stamp(moment: datetime) -> str:
    """A compact UTC stamp for event keys: ``20261123T111000Z``."""
    m = utc(moment)  # formatted by hand: strftime costs more than the rest of a key
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def wall(moment: datetime) -> str:
    """``moment`` on the London wall clock, as people read it (``14:05 GMT``)."""
    return humanize.time_of_day(moment, zone=True)


def staff_names(visit: Timed) -> str:
    """The visiting staff as one phrase: ``Alex Visitor and Sam Second``."""
    names = [s.name for s in visit.staff] or ["the visiting staff"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def emergency_index(chain: Sequence[EscalationStep]) -> int:
    """The step a code word jumps to: the one marked ``emergency``, else the last."""
    return next((i for i, step in enumerate(chain) if step.emergency), len(chain) - 1)


def chain_roles(chain: Iterable[EscalationStep]) -> tuple[str, ...]:
    """Every role on the chain, once each, in order of first appearance."""
    return tuple(dict.fromkeys(role for step in chain for role in step.who))


# --- the plan ---------------------------------------------------------------------------------


_ANCHORS: dict[str, Callable[[Timed], datetime | None]] = {
    "sign-out": lambda visit: visit.signed_out_at,
    "planned-start": lambda visit: visit.planned_start,
    "expected-return": lambda visit: visit.expected_return,
    "returned": lambda visit: visit.returned_at,
    "interval": lambda visit: _last_contact(visit),
}
"""What each kind of anchor is, on a visit (worked out for the step that has it only)."""


def _anchor(visit: Timed, step: CheckInStep) -> datetime | None:
    moment = _ANCHORS[step.anchor](visit)
    return None if moment is None else utc(moment)


def _last_contact(visit: Timed) -> datetime | None:
    moments = [utc(c.at) for c in visit.check_ins if not c.code_word_used]
    if visit.signed_out_at is not None:
        moments.append(utc(visit.signed_out_at))
    return max(moments, default=None)


def back_at(visit: Timed, plan: CheckInPlan) -> datetime | None:
    """When staff were back: signed back in, or (staff going straight home) the call that ends their visit.

    That call is "home safe", or — for staff not returning to school whose plan
    asks them to phone when they leave the home (Birchwood) — "left the home".
    """
    if visit.returned_at is not None:
        return utc(visit.returned_at)
    ends = {"home-safe"}
    if not visit.returning_to_school:
        ends.update(step.kind for step in plan.steps if step.kind == "left-home")
    return min((utc(c.at) for c in visit.check_ins if c.kind in ends and not c.code_word_used), default=None)


def _resolve_plan(visit: Timed, plan: CheckInPlan) -> _Plan:
    """Due times of the plan's steps, matched greedily against the check-ins made."""
    resolved = _Plan()
    if visit.signed_out_at is None:
        return resolved
    grace = _minutes(plan.grace_minutes)
    returned = back_at(visit, plan) is not None
    timed: list[tuple[datetime, int, CheckInStep]] = []
    for index, step in enumerate(plan.steps):
        anchor = _anchor(visit, step)
        if anchor is None or (returned and step.anchor != "returned"):
            continue
        timed.append((anchor + _minutes(step.offset_minutes), index, step))
    timed.sort(key=lambda item: (item[0], item[1]))
    contacts = sorted((c for c in visit.check_ins if not c.code_word_used), key=lambda c: utc(c.at))
    used: set[int] = set()
    window_start = utc(visit.signed_out_at)
    for due, index, step in timed:
        if step.anchor != "interval" and _meet(step, contacts, used, window_start):
            window_start = max(window_start, due)
            continue
        label = f"{index}@{stamp(due)}"
        resolved.reminders.append((label, due - _minutes(step.reminder_minutes), due, step))
        resolved.triggers.append(_Trigger(f"missed:{label}", "checkin-missed", due + grace, step.description, due))
        window_start = max(window_start, due)
    if not returned and visit.expected_return is not None:
        expected = utc(visit.expected_return)
        overdue = _Trigger(f"overdue@{stamp(expected)}", "overdue", expected + grace, subject_due=expected)
        # Once staff are overdue, that one alarm covers any contact missed from then on: one chain, not two.
        resolved.triggers = [t for t in resolved.triggers if t.at < overdue.at] + [overdue]
    for check_in in visit.check_ins:
        if check_in.code_word_used and not returned:
            resolved.triggers.append(_Trigger(f"code@{stamp(check_in.at)}", "code-word", utc(check_in.at)))
    return resolved


def _meet(step: CheckInStep, contacts: Sequence[Contact], used: set[int], since: datetime) -> bool:
    """Whether an unused matching check-in made at or after ``since`` meets ``step`` (and use it)."""
    kinds = CONTACT_KINDS[step.kind]
    for position, check_in in enumerate(contacts):
        if position not in used and check_in.kind in kinds and utc(check_in.at) >= since:
            used.add(position)
            return True
    return False


# --- episodes ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _episode_keys(visit_id: str, episode: str, chain_length: int) -> tuple[str, ...]:
    """The keys of an episode's steps, in order, then of its chain-exhausted alert.

    Made once for each visit's episode (a tick asks for them three times over: closed, running, its steps); a
    key is the same whenever it is made, so keeping them is safe.
    """
    return tuple(step_key(visit_id, episode, k) for k in range(chain_length)) + (exhausted_key(visit_id, episode),)


def step_key(visit_id: str, episode: str, index: int) -> str:
    """The event key of step ``index`` of an episode."""
    return f"{visit_id}/{episode}/step/{index}"


def exhausted_key(visit_id: str, episode: str) -> str:
    """The event key of an episode's chain-exhausted alert."""
    return f"{visit_id}/{episode}/exhausted"


def _choose(visit_id: str, candidates: list[_Trigger], fired: Mapping[str, Fired], length: int) -> _Trigger | None:
    """The one episode that runs: a code word first, else the one already running, else the earliest."""
    codes = [t for t in candidates if t.kind == "code-word"]
    if codes:
        return max(codes, key=lambda t: t.at)
    running = [t for t in candidates if any(k in fired for k in _episode_keys(visit_id, t.episode, length))]
    pool = running or candidates
    return min(pool, key=lambda t: (t.at, t.episode)) if pool else None


def _candidates(visit_id: str, triggers: Sequence[_Trigger], fired: Mapping[str, Fired], length: int,
                now: datetime) -> list[_Trigger]:
    """The triggers that may run an episode at ``now``: fallen due, not closed, not covered by a stand-down.

    A stand-down says staff are safe as of that moment, so it also covers any
    missed contact or overdue return that had fallen due by then while another
    episode was running. A code word is closed only by its own stand-down.
    """
    stood_down = max((utc(f.closed_at) for f in fired.values() if f.stood_down and f.closed_at), default=None)

    def closed(trigger: _Trigger) -> bool:
        keys = _episode_keys(visit_id, trigger.episode, length)
        if any(fired[k].closed_at is not None for k in keys if k in fired):
            return True
        return trigger.kind != "code-word" and stood_down is not None and trigger.at <= stood_down

    return [t for t in triggers if t.at <= now and not closed(t)]


@dataclass(frozen=True)
class _Step:
    """A step of an episode, or its chain-exhausted alert (``index == len(chain)``): its key and due time only."""

    key: str
    index: int
    due_at: datetime


def _steps(visit_id: str, trigger: _Trigger, chain: Sequence[EscalationStep], fired: Mapping[str, Fired]) -> list[_Step]:
    """Every step of the episode with its due time, in order (fired ones included); see :func:`_event`."""
    start = emergency_index(chain) if trigger.kind == "code-word" else 0
    keys = _episode_keys(visit_id, trigger.episode, len(chain))
    steps: list[_Step] = []
    due = trigger.at
    for index in range(start, len(chain)):
        key = keys[index]
        if key in fired:
            due = utc(fired[key].due_at)
        steps.append(_Step(key, index, due))
        due = due + _minutes(chain[index].wait_minutes)
    last_wait = chain[-1].wait_minutes or EXHAUSTED_AFTER_MINUTES
    exhausted_at = steps[-1].due_at + _minutes(last_wait)
    key = keys[-1]
    if key in fired:
        exhausted_at = utc(fired[key].due_at)
    steps.append(_Step(key, len(chain), exhausted_at))
    return steps


def _event(visit: Timed, trigger: _Trigger, chain: Sequence[EscalationStep], step: _Step) -> DueEvent:
    """The event of ``step``, with what the people reached read (worked out only for an event that fires)."""
    vid = visit.id or ""
    if step.index == len(chain):
        return DueEvent(step.key, vid, "chain-exhausted", step.index, step.due_at, chain_roles(chain),
                        _exhausted_text(visit, chain), trigger.episode, True)
    start = emergency_index(chain) if trigger.kind == "code-word" else 0
    kind: EventKind = "code-word" if trigger.kind == "code-word" and step.index == start else trigger.kind
    link = chain[step.index]
    return DueEvent(step.key, vid, kind, step.index, step.due_at, link.who,
                    _step_text(visit, trigger, chain, step.index), trigger.episode, link.emergency)


def _step_text(visit: Timed, trigger: _Trigger, chain: Sequence[EscalationStep], index: int) -> str:
    who = staff_names(visit)
    action = chain[index].action
    if trigger.kind == "code-word":
        # Read over the office worker's shoulder, this must not alarm beyond what the policy intends.
        return f"Priority call-back requested for {who} — follow the emergency step: {action}"
    situation = (f"{who} missed a check-in: {trigger.what}" if trigger.kind == "checkin-missed"
                 else f"{who} not back from a home visit ({trigger.what})")
    return f"{situation}. Step {index + 1} of {len(chain)}: {action}"


def _exhausted_text(visit: Timed, chain: Sequence[EscalationStep]) -> str:
    return (f"Every step of the chain has been taken for {staff_names(visit)} and nobody has stood it down: "
            f"everyone on the chain ({', '.join(chain_roles(chain))}) act now. Last step: {chain[-1].action}")


def _reminder_key(visit_id: str, label: str) -> str:
    return f"{visit_id}/remind/{label}"


def _reminder(visit: Timed, label: str, at: datetime, due: datetime, step: CheckInStep) -> DueEvent:
    vid = visit.id or ""
    text = f"Reminder for {staff_names(visit)}: {step.description} Due at {wall(due)}."
    return DueEvent(_reminder_key(vid, label), vid, "checkin-reminder", 0, at, step.who, text)


# --- the whole picture ------------------------------------------------------------------------


def assess(visit: Timed, plan: CheckInPlan, chain: Sequence[EscalationStep],
           fired: Mapping[str, Fired], now: datetime) -> Assessment:
    """What is due on ``visit`` at ``now``, what no longer applies, and when to look again.

    :param visit: the visit with its check-ins, as stored (``id`` set).
    :param plan: the school's check-in plan for it.
    :param chain: the school's escalation chain for it (at least one step).
    :param fired: events already recorded for this visit, by key.
    :param now: the moment of the tick (aware).
    """
    if not chain:
        raise ValueError("an escalation chain needs at least one step")
    now = utc(now)
    vid = visit.id or ""
    resolved = _resolve_plan(visit, plan)
    events: list[DueEvent] = []
    upcoming: list[datetime] = []

    for label, at, due, step in resolved.reminders:
        if _reminder_key(vid, label) in fired or now >= due + _minutes(plan.grace_minutes):
            continue  # sent already, or too late to remind: the missed check-in takes over
        if at <= now:
            events.append(_reminder(visit, label, at, due, step))
        else:
            upcoming.append(at)

    length = len(chain)
    candidates = _candidates(vid, resolved.triggers, fired, length, now)
    upcoming += [t.at for t in resolved.triggers if t.at > now]
    active = _choose(vid, candidates, fired, length)
    if active is not None:
        for planned in _steps(vid, active, chain, fired):
            if planned.key in fired:
                continue
            if planned.due_at <= now:
                events.append(_event(visit, active, chain, planned))
            else:
                upcoming.append(planned.due_at)
                break

    live = {t.episode for t in candidates if t is active}
    closures = [Closure(key, _why_closed(visit, plan, resolved.triggers, row.episode))
                for key, row in fired.items()
                if row.closed_at is None and row.episode is not None and row.episode not in live]
    events.sort(key=lambda e: (e.due_at, e.step_index))
    return Assessment(tuple(events), tuple(closures), min(upcoming, default=None))


def _why_closed(visit: Timed, plan: CheckInPlan, triggers: Sequence[_Trigger], episode: str) -> str:
    back = back_at(visit, plan)
    if back is not None:
        return f"staff back at {wall(back)}"
    if any(t.episode == episode for t in triggers):
        return "superseded by a priority call-back"
    if episode.startswith("overdue@"):
        return "expected return moved"
    return "check-in received"


def due_events(visit: Timed, plan: CheckInPlan, chain: Sequence[EscalationStep],
               fired: Mapping[str, Fired], now: datetime) -> list[DueEvent]:
    """The events due on ``visit`` at ``now``, oldest first (see :func:`assess`)."""
    return list(assess(visit, plan, chain, fired, now).events)


def next_step(visit: Timed, plan: CheckInPlan, chain: Sequence[EscalationStep],
              fired: Mapping[str, Fired], now: datetime) -> DueEvent | None:
    """The running episode's next unfired step, due ``now`` (for "escalate now"), or ``None``."""
    now = utc(now)
    vid = visit.id or ""
    resolved = _resolve_plan(visit, plan)
    length = len(chain)
    candidates = _candidates(vid, resolved.triggers, fired, length, now)
    running = [t for t in candidates if any(k in fired for k in _episode_keys(vid, t.episode, length))]
    active = _choose(vid, running, fired, length)
    if active is None:
        return None
    pending = [step for step in _steps(vid, active, chain, fired) if step.key not in fired]
    if not pending:
        return None
    event = _event(visit, active, chain, pending[0])
    return DueEvent(event.key, event.visit_id, event.kind, event.step_index, now, event.who, event.text,
                    event.episode, event.emergency)


def next_check_in(visit: Timed, plan: CheckInPlan) -> tuple[datetime, str] | None:
    """The earliest check-in of the plan not yet made (due time, what it is), for the live board."""
    pending = [(due, step.description) for _, _, due, step in _resolve_plan(visit, plan).reminders]
    return min(pending, default=None)
