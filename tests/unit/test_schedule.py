"""What falls due on a visit, from its state alone: the watch's timetable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hv_connector.clock import LONDON
from hv_connector.models import CheckInPlan, CheckInStep, EscalationStep, Visit
from hv_connector.schedule import Fired, assess, due_events, next_step
from hv_connector.testing import base_visit

START = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
BACK = START + timedelta(hours=1)
CHAIN = [
    EscalationStep(who=("office",), action="Phone the visiting staff on their mobiles.", wait_minutes=15),
    EscalationStep(who=("dsl", "headteacher"), action="Tell the DSL and the headteacher.", wait_minutes=15),
    EscalationStep(who=("dsl",), action="Call the police (999).", wait_minutes=0, emergency=True),
]
LEFT_HOME = CheckInPlan(steps=(CheckInStep(kind="left-home", who=("visiting-staff",), anchor="expected-return",
                                           description="Phone the office when you leave the home."),),
                        grace_minutes=10)
OFFICE_CALL = CheckInPlan(steps=(CheckInStep(kind="office-call", who=("office",), anchor="planned-start",
                                             offset_minutes=10, description="The office phones the staff."),),
                          grace_minutes=5)


def visit(**fields: Any) -> Visit:
    data = base_visit("potton", reason="attendance", start=START)
    data.update(id="V1", signed_out_at=(START - timedelta(minutes=20)).isoformat())
    data.update(fields)
    return Visit.model_validate(data)


def fire(fired: dict[str, Fired], events, now: datetime) -> None:
    for event in events:
        fired[event.key] = Fired(event.key, event.due_at)


def run(v: Visit, plan: CheckInPlan, until: datetime, every: timedelta,
        start: datetime = START) -> dict[str, Fired]:
    """Tick from ``start`` to ``until`` every ``every``, recording what fires and closing what no longer applies."""
    fired: dict[str, Fired] = {}
    now = start
    while now <= until:
        result = assess(v, plan, CHAIN, fired, now)
        fire(fired, result.events, now)
        for closure in result.closures:
            fired[closure.key] = replace(fired[closure.key], closed_at=now)
        now += every
    return fired


def test_an_overdue_visit_walks_the_chain_then_alerts_everyone() -> None:
    fired = run(visit(), LEFT_HOME, BACK + timedelta(hours=2), timedelta(minutes=1))
    due = {key.split("/", 1)[1]: row.due_at.astimezone(LONDON).strftime("%H:%M") for key, row in fired.items()}
    assert due == {
        "remind/0@20261123T110000Z": "10:55",
        "overdue@20261123T110000Z/step/0": "11:10",
        "overdue@20261123T110000Z/step/1": "11:25",
        "overdue@20261123T110000Z/step/2": "11:40",
        "overdue@20261123T110000Z/exhausted": "11:55",
    }


def test_nothing_fires_twice_and_nothing_before_its_time() -> None:
    v = visit()
    early = due_events(v, LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=9))
    assert [e.kind for e in early] == ["checkin-reminder"]  # a watch down at 10:55 still reminds, late
    events = due_events(v, LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))
    assert [(e.kind, e.step_index, e.who) for e in events] == [("overdue", 0, ("office",))]
    fired = {e.key: Fired(e.key, e.due_at) for e in events}
    assert due_events(v, LEFT_HOME, CHAIN, fired, BACK + timedelta(minutes=24)) == []


def test_the_chain_exhausted_alert_reaches_every_role_on_it() -> None:
    fired = run(visit(), LEFT_HOME, BACK + timedelta(hours=2), timedelta(minutes=5))
    last = assess(visit(), LEFT_HOME, CHAIN, {k: v for k, v in fired.items() if "exhausted" not in k},
                  BACK + timedelta(hours=2)).events
    assert [(e.kind, e.who) for e in last] == [("chain-exhausted", ("office", "dsl", "headteacher"))]
    assert "act now" in last[0].text


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=1, max_value=20))
def test_the_timetable_does_not_depend_on_how_often_the_watch_ticks(minutes: int) -> None:
    every_minute = run(visit(), OFFICE_CALL, BACK + timedelta(hours=2), timedelta(minutes=1))
    sparse = run(visit(), OFFICE_CALL, BACK + timedelta(hours=2) + timedelta(minutes=minutes),
                 timedelta(minutes=minutes))
    chain_only = {k: v.due_at for k, v in every_minute.items() if "/remind/" not in k}
    assert {k: v.due_at for k, v in sparse.items() if "/remind/" not in k} == chain_only


def test_a_check_in_meets_the_office_call_and_a_missing_one_starts_the_chain() -> None:
    called = visit(check_ins=[{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}])
    assert due_events(called, OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=20)) == []
    silent = visit()
    reminder = due_events(silent, OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=5))
    assert [(e.kind, e.who) for e in reminder] == [("checkin-reminder", ("office",))]
    missed = due_events(silent, OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=15))
    assert [(e.kind, e.step_index) for e in missed] == [("checkin-missed", 0)]
    assert "missed a check-in: The office phones the staff. (due 10:10 GMT)" in missed[0].text


def test_a_late_check_in_stands_down_a_missed_check_in() -> None:
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=15))}
    late = visit(check_ins=[{"at": (START + timedelta(minutes=17)).isoformat(), "kind": "staff-call"}])
    result = assess(late, OFFICE_CALL, CHAIN, fired, START + timedelta(minutes=18))
    assert result.events == ()
    assert [c.reason for c in result.closures] == ["check-in received"]


def test_the_code_word_jumps_to_the_emergency_step_without_saying_so() -> None:
    word = "bluebell"
    v = visit(check_ins=[{"at": (START + timedelta(minutes=12)).isoformat(), "kind": "staff-call",
                          "code_word_used": True, "note": f"said {word}"}])
    events = due_events(v, LEFT_HOME, CHAIN, {}, START + timedelta(minutes=12))
    assert [(e.kind, e.step_index, e.emergency) for e in events] == [("code-word", 2, True)]
    assert events[0].text == ("Priority call-back requested for Alex Visitor and Sam Second — "
                              "follow the emergency step: Call the police (999).")
    assert word not in events[0].text and "code word" not in events[0].text.lower()


def test_a_code_word_preempts_a_running_chain_and_closes_its_steps() -> None:
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    v = visit(check_ins=[{"at": (BACK + timedelta(minutes=12)).isoformat(), "kind": "staff-call", "code_word_used": True}])
    result = assess(v, LEFT_HOME, CHAIN, fired, BACK + timedelta(minutes=12))
    assert [e.kind for e in result.events] == ["code-word"]
    assert [c.reason for c in result.closures] == ["superseded by a priority call-back"]


def test_more_time_closes_the_old_alarm_and_a_new_return_time_counts_afresh() -> None:
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    extended = visit(expected_return=(BACK + timedelta(minutes=45)).isoformat())
    result = assess(extended, LEFT_HOME, CHAIN, fired, BACK + timedelta(minutes=12))
    assert result.events == () and [c.reason for c in result.closures] == ["expected return moved"]
    assert result.next_due == (BACK + timedelta(minutes=40)).astimezone(UTC)  # the left-home reminder


def test_staff_back_closes_everything_and_nothing_more_is_due() -> None:
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    back = visit(returned_at=(BACK + timedelta(minutes=20)).isoformat())
    result = assess(back, LEFT_HOME, CHAIN, fired, BACK + timedelta(hours=3))
    assert result.events == () and result.next_due is None
    assert [c.reason for c in result.closures] == ["staff back at 11:20 GMT"]


def test_a_stood_down_chain_stays_quiet() -> None:
    fired = {e.key: Fired(e.key, e.due_at, closed_at=BACK + timedelta(minutes=11))
             for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    assert assess(visit(), LEFT_HOME, CHAIN, fired, BACK + timedelta(hours=3)).events == ()


def test_escalate_now_fires_the_next_step_and_restarts_its_clock() -> None:
    now = BACK + timedelta(minutes=12)
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, now)}
    step = next_step(visit(), LEFT_HOME, CHAIN, fired, now)
    assert step is not None and (step.step_index, step.due_at) == (1, now.astimezone(UTC))
    fired[step.key] = Fired(step.key, step.due_at)
    assert assess(visit(), LEFT_HOME, CHAIN, fired, now).next_due == (now + timedelta(minutes=15)).astimezone(UTC)
    assert next_step(visit(), LEFT_HOME, CHAIN, {}, now) is None  # nothing running: nothing to escalate


def test_the_october_clock_change_neither_hastens_nor_delays_the_alarm() -> None:
    # Out at 00:30 BST on 25 Oct 2026; due back at 01:30 GMT (the second 01:30), two hours later.
    out = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)
    back = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=1)
    v = visit(planned_start=out.isoformat(), signed_out_at=out.isoformat(), expected_return=back.isoformat())
    first_0140 = datetime(2026, 10, 25, 1, 40, tzinfo=LONDON)  # 01:40 BST, an hour early
    assert due_events(v, LEFT_HOME, CHAIN, {}, first_0140) == []
    assert due_events(v, LEFT_HOME, CHAIN, {}, back + timedelta(minutes=9)) == []
    events = due_events(v, LEFT_HOME, CHAIN, {}, datetime(2026, 10, 25, 1, 40, tzinfo=LONDON, fold=1))
    assert [e.kind for e in events] == ["overdue"]
    assert events[0].due_at == datetime(2026, 10, 25, 1, 40, tzinfo=UTC)
    assert "due back 01:30 GMT" in events[0].text


def test_an_interval_plan_moves_with_each_contact() -> None:
    plan = CheckInPlan(steps=(CheckInStep(kind="interval", who=("visiting-staff", "office"), anchor="interval",
                                          offset_minutes=30, description="Agreed contact."),), grace_minutes=5)
    v = visit(check_ins=[{"at": (START + timedelta(minutes=5)).isoformat(), "kind": "staff-call"}])
    assert assess(v, plan, CHAIN, {}, START + timedelta(minutes=6)).next_due == (
        START + timedelta(minutes=30)).astimezone(UTC)  # 10:35 contact, reminded at 10:30
    missed = due_events(v, plan, CHAIN, {}, START + timedelta(minutes=40))
    assert [e.kind for e in missed] == ["checkin-missed"]


def test_home_safe_after_an_out_of_hours_visit_is_still_watched_once_staff_are_back() -> None:
    plan = CheckInPlan(steps=(CheckInStep(kind="home-safe", who=("visiting-staff", "line-manager"), anchor="returned",
                                          offset_minutes=30, description="Tell your line manager you are home safe."),),
                       grace_minutes=10)
    back = visit(returned_at=(BACK + timedelta(minutes=5)).isoformat())
    assert [e.kind for e in due_events(back, plan, CHAIN, {}, BACK + timedelta(minutes=30))] == ["checkin-reminder"]
    missed = due_events(back, plan, CHAIN, {}, BACK + timedelta(minutes=45))
    assert [(e.kind, e.step_index) for e in missed] == [("checkin-missed", 0)]
    safe = visit(returned_at=(BACK + timedelta(minutes=5)).isoformat(),
                 check_ins=[{"at": (BACK + timedelta(minutes=31)).isoformat(), "kind": "home-safe"}])
    settled = assess(safe, plan, CHAIN, {}, BACK + timedelta(hours=2))
    assert (settled.events, settled.next_due) == ((), None)


def test_a_stand_down_also_covers_what_fell_due_before_it_but_not_after() -> None:
    # The missed office call (10:20) runs; the overdue return (11:10) waits behind it. Stood down at 11:15:
    # staff are safe as of then, so the overdue alarm is covered — but a later one is not.
    fired = {e.key: Fired(e.key, e.due_at) for e in due_events(visit(), OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=15))}
    stood = {k: replace(f, closed_at=BACK + timedelta(minutes=15), stood_down=True) for k, f in fired.items()}
    assert assess(visit(), OFFICE_CALL, CHAIN, stood, BACK + timedelta(minutes=20)).events == ()
    later = visit(expected_return=(BACK + timedelta(minutes=30)).isoformat())
    events = due_events(later, OFFICE_CALL, CHAIN, stood, BACK + timedelta(minutes=36))
    assert [(e.kind, e.step_index) for e in events] == [("overdue", 0)]


def test_staff_going_straight_home_are_back_when_they_say_they_are_home_safe() -> None:
    # Washwood Heath: after an out-of-hours visit staff go home and tell their line manager; no grace.
    plan = CheckInPlan(steps=(CheckInStep(kind="home-safe", who=("visiting-staff", "line-manager"),
                                          anchor="expected-return", description="Text your line manager."),),
                       grace_minutes=0)
    home = visit(returning_to_school=False,
                 check_ins=[{"at": (BACK - timedelta(minutes=2)).isoformat(), "kind": "home-safe"}])
    settled = assess(home, plan, CHAIN, {}, BACK + timedelta(hours=1))
    assert (settled.events, settled.next_due) == ((), None)
    silent = visit(returning_to_school=False)
    assert [e.kind for e in due_events(silent, plan, CHAIN, {}, BACK)] == ["overdue"]  # at once: no grace
