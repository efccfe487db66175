"""Potton's policy plugin, rule by rule, with hv-connector's testing kit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from hv_connector.clock import at_london
from hv_connector.errors import ConfigError
from hv_connector.models import Stage
from hv_connector.testing import PolicyKit, case_ids, installed_policies, staff
from hv_connector.visits.files import load_visit
from hvc_potton import plugin

HEAD = staff("pt-head", "Jo Watts-Test", "headteacher", "slt", mobile="07700 900101")
DSL = staff("pt-dsl", "Dee Lead", "dsl", mobile="07700 900102")
TA = staff("pt-ta", "Tam Assist", "ta", mobile="07700 900103")
OFFICE = staff("pt-office", "Ola Office", "office", mobile="07700 900104")

BASE = {
    "reason": "unexplained-absence",
    "authorised_by": HEAD,
    "risk_assessment": {"code_word": "bluebell", "completed_by": HEAD},
    "vehicle": {"make": "Ford", "model": "Fiesta", "registration": "AB12 CDE", "colour": "blue"},
}
kit = PolicyKit(plugin, base=BASE)
VISITS = Path(__file__).resolve().parents[3] / "fixtures" / "visits"

START = at_london(date(2026, 11, 23), time(10, 0))
"""The kit's baseline visit runs 10:00–11:00 on Monday 23 November 2026."""


def when(day: date, start: str, minutes: int = 60) -> dict[str, str]:
    """Fields for a visit on ``day`` starting at the London wall-clock time ``start``."""
    begins = at_london(day, time.fromisoformat(start))
    return {"planned_start": begins.isoformat(), "expected_return": (begins + timedelta(minutes=minutes)).isoformat(),
            "background_shown_at": (begins - timedelta(hours=2)).isoformat()}


def minutes_after_start(n: int) -> datetime:
    return START + timedelta(minutes=n)


OUT = {"signed_out_at": minutes_after_start(-10).isoformat()}
"""The baseline visit, signed out ten minutes before it starts."""


def test_the_plugin_is_installed_for_its_school():
    info = installed_policies().info("potton")
    assert info.school_name == "Potton Primary School"
    assert info.source_document == "potton.txt"


def test_plugin_keeps_the_contract():
    kit.check_contract()


def test_a_well_planned_visit_raises_nothing_while_the_policy_is_in_date():
    in_date = date(2026, 10, 15)
    visit = kit.visit(**when(in_date, "10:00"))
    kit.assert_clean(visit, now=at_london(in_date, time(8, 0)))


def test_a_well_planned_visit_raises_only_the_overdue_review_after_october_2026():
    kit.assert_clean(kit.visit(), allow=("core.policy-review-overdue",))


def test_the_review_is_overdue_from_november_2026_only():
    visit = kit.visit()
    kit.assert_finding(visit, "core.policy-review-overdue", severity="warn", now=at_london(date(2026, 11, 23), time(9)))
    kit.assert_no_finding(visit, "core.policy-review-overdue", now=at_london(date(2026, 10, 15), time(9)))
    kit.assert_no_finding(visit, "core.policy-review-overdue", now=at_london(date(2026, 10, 31), time(23)))


# Each case: the rule, the severity it must fire with, what breaks it, the nearest change that keeps it,
# and (for live rules) the moment of the check. Changes apply to the kit's baseline visit.
CASES = [
    ("potton.parent-agreement", "warn", {"parent_agreement": False},
     {"parent_agreement": False, "emergency": True}, None),
    ("potton.parent-agreement", "warn", {"parents_informed": False, "parent_agreement": False},
     {"parents_informed": False, "parent_agreement": False, "parents_not_responding": True}, None),
    ("potton.headteacher-authorises", "block", {"authorised_by": DSL}, {"authorised_by": HEAD}, None),
    ("potton.headteacher-authorises", "block", {"authorised_by": None}, {}, None),
    ("potton.school-hours", "block", when(date(2026, 11, 23), "18:30"),
     {**when(date(2026, 11, 23), "18:30"), "out_of_hours_reason": "Parents work shifts; no daytime slot",
      "welfare_contact": OFFICE}, None),
    ("potton.school-hours", "block",
     {**when(date(2026, 11, 23), "18:30"), "out_of_hours_reason": "Shift work",
      "welfare_contact": staff("s1", "Alex Visitor", "pastoral")},
     {**when(date(2026, 11, 23), "18:30"), "out_of_hours_reason": "Shift work", "welfare_contact": OFFICE}, None),
    ("potton.school-hours", "block", when(date(2026, 11, 23), "14:30", minutes=60),
     when(date(2026, 11, 23), "14:15", minutes=60), None),
    ("potton.school-hours", "block", when(date(2026, 11, 28), "10:00"), when(date(2026, 11, 27), "10:00"), None),
    ("potton.two-staff-unless-head-agrees", "block", {"staff": [TA]},
     {"staff": [TA], "lone_visit_agreed_by": HEAD, "risk_assessment.lone_working": True}, None),
    ("potton.two-staff-unless-head-agrees", "block",
     {"staff": [TA], "lone_visit_agreed_by": HEAD},
     {"staff": [TA], "lone_visit_agreed_by": HEAD, "risk_assessment.lone_working": True}, None),
    ("potton.two-staff-unless-head-agrees", "block",
     {"staff": [TA], "lone_visit_agreed_by": DSL, "risk_assessment.lone_working": True},
     {"staff": [TA], "lone_visit_agreed_by": HEAD, "risk_assessment.lone_working": True}, None),
    ("potton.risk-assessment", "block", {"risk_assessment.completed_by": DSL},
     {"risk_assessment.completed_by": HEAD}, None),
    ("potton.risk-assessment", "block", {"family.dangerous_animals": True},
     {"family.dangerous_animals": True, "risk_assessment.covers": ["animals"]}, None),
    ("potton.risk-assessment", "block", {"family.known_violent_person": True},
     {"family.known_violent_person": True, "risk_assessment.covers": ["aggression"]}, None),
    ("potton.trained-and-dbs", "block", {"staff": [staff("s1", "Alex Visitor", "pastoral", dbs="standard"), DSL]},
     {"staff": [staff("s1", "Alex Visitor", "pastoral", dbs="enhanced"), DSL]}, None),
    ("potton.trained-and-dbs", "warn",
     {"staff": [staff("s1", "Alex Visitor", "pastoral", home_visit_trained=False),
                staff("s2", "Dee Lead", "dsl", home_visit_trained=False)]},
     {"staff": [staff("s1", "Alex Visitor", "pastoral", home_visit_trained=False),
                staff("s2", "Dee Lead", "dsl", home_visit_trained=True)]}, None),
    ("potton.dsl-attends-safeguarding", "block", {"reason": "safeguarding", "staff": [TA, HEAD]},
     {"reason": "safeguarding", "staff": [TA, DSL]}, None),
    ("potton.dsl-attends-safeguarding", "block", {"statutory_cp": True, "staff": [TA, HEAD]},
     {"statutory_cp": False, "staff": [TA, HEAD]}, None),
    ("potton.log-before-visit", "block", {"logged_with_office": False}, {"logged_with_office": True}, None),
    ("potton.log-before-visit", "block", {"phones_given_to_office": False}, {"phones_given_to_office": True}, None),
    ("potton.code-word", "block", {"risk_assessment.code_word": None}, {"risk_assessment.code_word": "heron"}, None),
    ("potton.code-word", "block", {"risk_assessment.code_word": "  "}, {"risk_assessment.code_word": "heron"}, None),
    ("potton.vehicle-details", "warn", {"vehicle.colour": ""}, {"vehicle": None, "travel": "foot"}, None),
    ("potton.wait-15-minutes", "block", {"outcome": {"parents_present_on_arrival": False, "waited_minutes": 20}},
     {"outcome": {"parents_present_on_arrival": False, "waited_minutes": 15, "cancelled": True}}, None),
    ("potton.wait-15-minutes", "block",
     {"outcome": {"parents_present_on_arrival": False, "arrived_at": START.isoformat()}},
     {"outcome": {"parents_present_on_arrival": True, "arrived_at": START.isoformat()}},
     minutes_after_start(16)),
    ("potton.cancel-if-unsafe", "block",
     {"outcome": {"cancelled": True, "cancelled_for_safety": True, "cancellation_reason": "Shouting at the door"}},
     {"outcome": {"cancelled": True, "cancelled_for_safety": True, "cancellation_reason": "Shouting at the door",
                  "cancellation_sent_to_head": True}}, None),
    ("potton.animals", "block", {"outcome": {"dangerous_animals_present": True, "animals_secured": False}},
     {"outcome": {"dangerous_animals_present": True, "animals_secured": True}}, None),
    ("potton.animals", "block", {"outcome": {"dangerous_animals_present": True}},
     {"outcome": {"dangerous_animals_present": True, "cancelled": True}}, None),
    ("potton.checkin-10-minutes", "block", OUT,
     {**OUT, "check_ins": [{"at": minutes_after_start(10).isoformat(), "kind": "office-call", "by": "pt-office"}]},
     minutes_after_start(11)),
    ("potton.checkin-10-minutes", "block",
     {**OUT, "check_ins": [{"at": minutes_after_start(10).isoformat(), "kind": "office-call"}],
      "outcome": {"departed_at": minutes_after_start(50).isoformat()}},
     {**OUT, "check_ins": [{"at": minutes_after_start(10).isoformat(), "kind": "office-call"},
                           {"at": minutes_after_start(50).isoformat(), "kind": "left-home"}],
      "outcome": {"departed_at": minutes_after_start(50).isoformat()}},
     minutes_after_start(55)),
    ("potton.tutoring-room", "info", {"reason": "tuition", "outcome": {"tutoring_room": "Pupil's bedroom",
                                                                       "parent_present_inside": True}},
     {"reason": "tuition", "outcome": {"tutoring_room": "Kitchen table", "parent_present_inside": True}}, None),
    ("potton.tutoring-room", "info", {"reason": "tuition", "outcome": {"tutoring_room": "Kitchen table",
                                                                       "parent_present_inside": False}},
     {"reason": "parent-meeting", "outcome": {"parent_present_inside": False}}, None),
    ("potton.escalation", "block", OUT, {**OUT, "returned_at": minutes_after_start(62).isoformat()},
     minutes_after_start(65)),
    ("potton.escalation", "block",
     {**OUT, "check_ins": [{"at": minutes_after_start(10).isoformat(), "kind": "office-call", "code_word_used": True}]},
     {**OUT, "check_ins": [{"at": minutes_after_start(10).isoformat(), "kind": "office-call"}]},
     minutes_after_start(12)),
    ("potton.see-the-child", "warn", {"outcome": {"child_seen": False, "child_spoken_to": False}},
     {"outcome": {"child_seen": True, "child_spoken_to": True}}, None),
    ("potton.see-the-child", "warn", {"outcome": {"child_seen": True}},
     {"reason": "persistent-absence", "outcome": {"child_seen": True}}, None),
    ("potton.attendance-agreements", "info", {"outcome": {"discussion": "Mornings are hard."}},
     {"outcome": {"discussion": "Mornings are hard.", "agreements": ["Breakfast club from Monday"]}}, None),
    ("potton.attendance-below-70", "warn", {"pupil.attendance_3m": 69.5}, {"pupil.attendance_3m": 70.0}, None),
    ("potton.attendance-below-70", "warn", {"pupil.attendance_3m": None}, {"pupil.attendance_3m": 70.0}, None),
]


@pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps", "now"), CASES, ids=case_ids(CASES))
def test_each_rule_fires_when_broken_and_not_on_the_nearest_good_visit(rule_id, severity, breaks, keeps, now):
    finding = kit.assert_rule_case(rule_id, severity, breaks, keeps, now=now)
    assert finding.clause.startswith("Potton policy — §")


def test_every_potton_rule_has_a_case():
    assert kit.rules_without_cases(case[0] for case in CASES) == set()
    assert len(kit.rule_ids()) == 19


def test_the_dbs_part_blocks_while_the_training_part_only_warns():
    visit = kit.visit(staff=[staff("s1", "Alex Visitor", "pastoral", dbs="basic", home_visit_trained=False), DSL | {
        "home_visit_trained": False}])
    found = {f.severity.value: f.message for f in kit.findings(visit, Stage.AUTHORISE)
             if f.rule_id == "potton.trained-and-dbs"}
    assert "Alex Visitor" in found["block"]
    assert "trained in home visiting" in found["warn"]


@pytest.mark.parametrize(("start", "outside"), [
    ("2026-10-23T09:00:00+01:00", False),  # Friday before the change: 09:00 BST is 08:00 UTC, still in hours
    ("2026-10-23T08:00:00+00:00", False),  # the same moment written in UTC
    ("2026-10-26T08:30:00+00:00", True),   # Monday after the change: 08:30 GMT is before 08:45
    ("2026-10-26T09:00:00+00:00", False),
    ("2026-10-27T14:30:00+00:00", True),   # ends 15:30 GMT, after 15:15
    ("2026-10-22T14:00:00+01:00", False),  # BST: ends 15:00 local, though 14:00 UTC
])
def test_school_hours_follow_the_london_clock_across_the_october_change(start, outside):
    begins = datetime.fromisoformat(start)
    visit = kit.visit(planned_start=begins.isoformat(), expected_return=(begins + timedelta(hours=1)).isoformat())
    fired = any(f.rule_id == "potton.school-hours" for f in kit.findings(visit, Stage.AUTHORISE))
    assert fired is outside


@pytest.mark.parametrize("school_day", [["8.45am", "15:15"], "08:45-15:15", ["15:15", "08:45"], ["08:45"]])
def test_a_malformed_school_day_option_is_a_config_error_naming_it(school_day):
    odd = PolicyKit(plugin, base=BASE, options={"school_day": school_day})
    with pytest.raises(ConfigError, match="school_day"):
        odd.findings(kit.visit(), Stage.AUTHORISE)


def test_the_school_day_is_an_option():
    evening = kit.visit(**when(date(2026, 11, 23), "16:00"))
    kit.assert_finding(evening, "potton.school-hours")
    late_kit = PolicyKit(plugin, base=BASE, options={"school_day": ["08:00", "17:30"]})
    late_kit.assert_no_finding(evening, "potton.school-hours")


def test_only_the_headteacher_authorises():
    assert kit.policies.ask("potton", "authoriser_roles", visit=kit.visit()) == ["headteacher"]


def test_the_office_calls_ten_minutes_after_the_start_and_staff_call_when_they_leave():
    plan = kit.policies.ask("potton", "checkin_plan", visit=kit.visit())
    call, leaving = plan.steps
    assert (call.kind, call.who, call.anchor, call.offset_minutes) == ("office-call", ("office",), "planned-start", 10)
    assert leaving.kind == "left-home" and "concerns" in leaving.description


def test_escalation_goes_office_then_headteacher_then_police():
    chain = kit.policies.ask("potton", "escalation_chain", visit=kit.visit())
    assert [step.who for step in chain] == [("office",), ("headteacher",), ("headteacher",)]
    assert [step.emergency for step in chain] == [False, False, True]
    assert "police" in chain[-1].action


def test_the_risk_assessment_template_is_the_headteachers_and_covers_lone_working():
    template = kit.policies.ask("potton", "risk_assessment_template", visit=kit.visit())
    assert template.sign_off_roles == ("headteacher",) and template.requires_code_word
    assert any("Lone working" in h.hazard for h in template.hazards)


@pytest.mark.parametrize(("kind", "changes", "first"), [
    ("home-visit", {}, "Home Visit"),
    ("concern", {}, "Safeguarding"),
    ("concern", {"statutory_cp": True}, "Child Protection"),
    ("attendance", {}, "Attendance"),
    ("attendance", {"reason": "persistent-absence"}, "Persistent Absence"),
    ("cancelled", {}, "Home Visit"),
])
def test_cpoms_categories_come_from_the_schools_list(kind, changes, first):
    names = kit.policies.ask("potton", "cpoms_categories", visit=kit.visit(**changes), kind=kind)
    assert names[0] == first and "Home Visit" in names


def follow_up_texts(**changes) -> list[str]:
    answers = kit.policies.ask("potton", "follow_ups", visit=kit.visit(**changes))
    return [f.text for answer in answers for f in answer]


def test_attendance_agreements_lead_to_letters_then_a_follow_up_visit():
    texts = follow_up_texts(outcome={"agreements": ["Walk to school with a neighbour"]})
    assert any("attendance record" in t for t in texts)
    assert any("reminder letter" in t for t in texts)
    assert any("follow-up visit" in t for t in texts)
    assert not any("reminder letter" in t for t in follow_up_texts(outcome={}))


def test_attendance_below_70_percent_is_referred_to_the_authorities():
    assert any("local authority" in t for t in follow_up_texts(pupil={"name": "P", "attendance_3m": 64.0}, outcome={}))
    assert not any("local authority" in t for t in follow_up_texts(pupil={"name": "P", "attendance_3m": 71.0},
                                                                   outcome={}))


def test_attendance_that_is_not_available_is_a_warning_that_it_cannot_be_checked_never_a_pass():
    for pupil, why in (({"name": "P", "attendance_3m": None}, "has not shared the pupil's register"),
                       ({"name": "P", "known_in_mis": False}, "not in the MIS data")):
        [finding] = [f for f in kit.findings(kit.visit(pupil=pupil), Stage.AFTER)
                     if f.rule_id == "potton.attendance-below-70"]
        assert finding.severity.value == "warn"
        assert "cannot be checked" in finding.message and why in finding.message


def test_a_safety_cancellation_goes_to_the_headteacher_in_writing():
    texts = follow_up_texts(outcome={"cancelled": True, "cancelled_for_safety": True})
    assert any("headteacher" in t and "writing" in t for t in texts)


def test_the_sample_visits_read_as_the_policy_says():
    now = at_london(date(2026, 11, 23), time(8, 0))
    ready = load_visit(VISITS / "potton-ready.json")
    kit.assert_clean(ready, now=now, allow=("core.policy-review-overdue",))
    lone = load_visit(VISITS / "potton-lone-evening.json")
    blocks = {f.rule_id for f in kit.findings(lone, now=now) if f.severity.value == "block"}
    assert {"potton.school-hours", "potton.two-staff-unless-head-agrees", "potton.code-word"} <= blocks


def test_live_rules_wait_for_their_moment():
    out = kit.visit(**OUT)
    kit.assert_no_finding(out, "potton.checkin-10-minutes", now=minutes_after_start(9))
    kit.assert_finding(out, "potton.checkin-10-minutes", now=minutes_after_start(10))
    kit.assert_no_finding(out, "potton.escalation", now=minutes_after_start(60))
    kit.assert_finding(out, "potton.escalation", now=minutes_after_start(61))
    waiting = kit.change(out, {"outcome": {"parents_present_on_arrival": False, "arrived_at": START.isoformat()}})
    kit.assert_no_finding(waiting, "potton.wait-15-minutes", now=minutes_after_start(15))
    kit.assert_finding(waiting, "potton.wait-15-minutes", now=minutes_after_start(16))


def test_a_call_the_staff_make_to_the_office_is_the_10_minute_contact():
    # §4 Personal safety: the ten-minute check-in is a call between the office and the staff; one the
    # staff make counts as much as one the office makes (the watch counts it too).
    out = kit.visit(**OUT)
    kit.assert_finding(out, "potton.checkin-10-minutes", now=minutes_after_start(12))
    phoned = kit.change(out, {"check_ins": [{"at": minutes_after_start(8).isoformat(), "kind": "staff-call"}]})
    kit.assert_no_finding(phoned, "potton.checkin-10-minutes", now=minutes_after_start(12))


def test_a_visit_cancelled_at_the_door_after_staff_phoned_in_is_no_breach():
    # §3 Home visits / §4 Personal safety: staff who find nobody in, or feel unsafe, cancel and phone in;
    # that call ends the visit, so the ten-minute check-in has nothing left to check.
    cancelled = kit.visit(**OUT, check_ins=[{"at": minutes_after_start(-1).isoformat(), "kind": "staff-call",
                                             "note": "Nobody answering; cancelling."}],
                          outcome={"cancelled": True, "cancellation_reason": "Nobody home",
                                   "arrived_at": minutes_after_start(-2).isoformat()})
    kit.assert_no_finding(cancelled, "potton.checkin-10-minutes", now=minutes_after_start(30))
    silent = kit.change(cancelled, {"check_ins": []})
    kit.assert_finding(silent, "potton.checkin-10-minutes", now=minutes_after_start(30))


def test_times_in_messages_are_london_wall_clock_times():
    summer = date(2026, 7, 1)
    visit = kit.visit(**when(summer, "10:00"), signed_out_at=at_london(summer, time(9, 50)).isoformat())
    finding = kit.assert_finding(visit, "potton.checkin-10-minutes", now=at_london(summer, time(10, 30)))
    assert "10:10" in finding.message
