"""What falls due on a visit, from its state alone: the watch's timetable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hv_connector.clock import LONDON
from hv_connector.models import CheckInPlan, CheckInStep, EscalationStep, Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.testing import base_visit
from hv_connector.watch.schedule import Fired, assess, due_events, next_step

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
        fired[event.key] = Fired.of(event)


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
    fired = {e.key: Fired.of(e) for e in events}
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
    fired = {e.key: Fired.of(e) for e in due_events(visit(), OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=15))}
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
    fired = {e.key: Fired.of(e) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    v = visit(check_ins=[{"at": (BACK + timedelta(minutes=12)).isoformat(), "kind": "staff-call", "code_word_used": True}])
    result = assess(v, LEFT_HOME, CHAIN, fired, BACK + timedelta(minutes=12))
    assert [e.kind for e in result.events] == ["code-word"]
    assert [c.reason for c in result.closures] == ["superseded by a priority call-back"]


def test_more_time_closes_the_old_alarm_and_a_new_return_time_counts_afresh() -> None:
    fired = {e.key: Fired.of(e) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    extended = visit(expected_return=(BACK + timedelta(minutes=45)).isoformat())
    result = assess(extended, LEFT_HOME, CHAIN, fired, BACK + timedelta(minutes=12))
    assert result.events == () and [c.reason for c in result.closures] == ["expected return moved"]
    assert result.next_due == (BACK + timedelta(minutes=40)).astimezone(UTC)  # the left-home reminder


def test_staff_back_closes_everything_and_nothing_more_is_due() -> None:
    fired = {e.key: Fired.of(e) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    back = visit(returned_at=(BACK + timedelta(minutes=20)).isoformat())
    result = assess(back, LEFT_HOME, CHAIN, fired, BACK + timedelta(hours=3))
    assert result.events == () and result.next_due is None
    assert [c.reason for c in result.closures] == ["staff back at 11:20 GMT"]


def test_a_stood_down_chain_stays_quiet() -> None:
    fired = {e.key: Fired.of(e, closed_at=BACK + timedelta(minutes=11))
             for e in due_events(visit(), LEFT_HOME, CHAIN, {}, BACK + timedelta(minutes=10))}
    assert assess(visit(), LEFT_HOME, CHAIN, fired, BACK + timedelta(hours=3)).events == ()


def test_escalate_now_fires_the_next_step_and_restarts_its_clock() -> None:
    now = BACK + timedelta(minutes=12)
    fired = {e.key: Fired.of(e) for e in due_events(visit(), LEFT_HOME, CHAIN, {}, now)}
    step = next_step(visit(), LEFT_HOME, CHAIN, fired, now)
    assert step is not None and (step.step_index, step.due_at) == (1, now.astimezone(UTC))
    fired[step.key] = Fired.of(step)
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
    fired = {e.key: Fired.of(e) for e in due_events(visit(), OFFICE_CALL, CHAIN, {}, START + timedelta(minutes=15))}
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


# --- each school's own plan and chain, from its installed policy plugin ------------------------------------------

POLICIES = Policies(build_plugin_manager())


def school_visit(school: str, start: datetime = START, **fields: Any) -> Visit:
    """A visit for ``school`` signed out 20 minutes before ``start``, due back an hour after it."""
    data = base_visit(school, reason="attendance", start=start)
    data.update(id="V1", signed_out_at=(start - timedelta(minutes=20)).isoformat())
    data.update(fields)
    return Visit.model_validate(data)


def walk(v: Visit, until: datetime) -> list[tuple[str, int, str, tuple[str, ...]]]:
    """Tick a minute at a time from sign-out to ``until`` with the school's plan and chain: (kind, step, due, who).

    The check-ins in ``v`` are made as the clock reaches them.
    """
    plan = POLICIES.ask(v.school, "checkin_plan", visit=v)
    chain = POLICIES.ask(v.school, "escalation_chain", visit=v)
    fired: dict[str, Fired] = {}
    seen: list[tuple[str, int, str, tuple[str, ...]]] = []
    now = v.signed_out_at
    assert now is not None
    while now <= until:
        so_far = v.model_copy(update={"check_ins": tuple(c for c in v.check_ins if c.at <= now)})
        result = assess(so_far, plan, chain, fired, now)
        for event in result.events:
            fired[event.key] = Fired.of(event)
            seen.append((event.kind, event.step_index, event.due_at.astimezone(LONDON).strftime("%H:%M"), event.who))
        for closure in result.closures:
            fired[closure.key] = replace(fired[closure.key], closed_at=now)
        now += timedelta(minutes=1)
    return seen


def call(kind: str, at: datetime) -> dict[str, str]:
    return {"at": at.isoformat(), "kind": kind}


def test_birchwood_staff_going_home_phone_when_they_leave_and_are_not_chased_after() -> None:
    silent = walk(school_visit("birchwood", returning_to_school=False), BACK + timedelta(hours=1))
    assert silent[:2] == [("checkin-reminder", 0, "10:55", ("visiting-staff", "office")),  # 5 minutes before 11:00
                          ("overdue", 0, "11:15", ("office", "line-manager"))]  # a quarter of an hour's grace
    phoned = school_visit("birchwood", returning_to_school=False, check_ins=[call("left-home", BACK - timedelta(minutes=3))])
    assert [k for k, *_ in walk(phoned, BACK + timedelta(hours=2))] == ["checkin-reminder"]  # 10:57: over, not chased
    back_to_school = walk(school_visit("birchwood"), BACK + timedelta(minutes=20))
    assert [k for k, *_ in back_to_school] == ["overdue"]  # no call asked for: only the return is watched


def test_pottons_office_calls_ten_minutes_after_the_start() -> None:
    silent = walk(school_visit("potton"), START + timedelta(minutes=40))
    assert silent == [("checkin-reminder", 0, "10:05", ("office",)), ("checkin-missed", 0, "10:20", ("office",)),
                      ("checkin-missed", 1, "10:30", ("headteacher",))]
    called = school_visit("potton", check_ins=[call("office-call", START + timedelta(minutes=10))])
    assert [k for k, *_ in walk(called, START + timedelta(minutes=40))] == ["checkin-reminder"]


def test_st_edwards_contact_comes_at_the_interval_agreed_in_the_risk_assessment() -> None:
    agreed = {"code_word": "bluebell", "hazards": [], "covers": [], "contact_interval_minutes": 20}
    arrived = [call("arrived", START - timedelta(minutes=1))]
    silent = walk(school_visit("st-edwards", risk_assessment=agreed, check_ins=arrived), START + timedelta(minutes=25))
    assert [(k, s, due) for k, s, due, _ in silent] == [("checkin-reminder", 0, "09:55")] * 2 + [  # arrival, and 20 minutes from sign-out
        ("checkin-reminder", 0, "10:14"), ("checkin-missed", 0, "10:19")]  # 20 minutes from the 09:59 arrival
    kept = arrived + [call("staff-call", START + timedelta(minutes=18))]
    on_time = walk(school_visit("st-edwards", risk_assessment=agreed, check_ins=kept), START + timedelta(minutes=35))
    assert [(k, due) for k, _, due, _ in on_time] == [("checkin-reminder", "09:55")] * 2 + [
        ("checkin-reminder", "10:14"), ("checkin-reminder", "10:33")]  # the next 20 minutes run from 10:18


def test_washwood_heath_staff_confirm_home_safe_after_an_out_of_hours_visit() -> None:
    evening = START.replace(hour=16, minute=30)
    silent = walk(school_visit("washwood-heath", evening, returning_to_school=False), evening + timedelta(hours=2))
    assert silent[:2] == [("checkin-reminder", 0, "17:25", ("visiting-staff", "line-manager")),
                          ("overdue", 0, "17:30", ("office-manager", "office"))]  # no grace: the office acts at once
    home = school_visit("washwood-heath", evening, returning_to_school=False,
                        check_ins=[call("home-safe", evening + timedelta(minutes=58))])
    assert [k for k, *_ in walk(home, evening + timedelta(hours=3))] == ["checkin-reminder"]
    daytime = walk(school_visit("washwood-heath"), BACK - timedelta(minutes=1))
    assert [(k, who) for k, _, _, who in daytime] == [("checkin-reminder", ("visiting-staff", "office"))]  # sign in
    summer = datetime(2026, 6, 15, 16, 30, tzinfo=LONDON)  # 15:30 UTC: 16:00 is read on the London clock
    reminded = walk(school_visit("washwood-heath", summer), summer + timedelta(minutes=59))
    assert [(k, due, who) for k, _, due, who in reminded] == [
        ("checkin-reminder", "17:25", ("visiting-staff", "office")),
        ("checkin-reminder", "17:25", ("visiting-staff", "line-manager"))]
