"""St Edwards' policy plugin, rule by rule, with hv-connector's testing kit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from hv_connector.clock import at_london
from hv_connector.errors import ConfigError
from hv_connector.models import Stage
from hv_connector.testing import PolicyKit, case_ids, installed_policies, staff
from hv_connector.visits.files import load_visit
from hvc_st_edwards import plugin

HEAD = staff("se-head", "Bernie Holt-Test", "headteacher", mobile="07700 900301")
DSL = staff("se-dsl", "Frankie Dale", "dsl", mobile="07700 900302")
MANAGER = staff("se-lm", "Pat Manager", "line-manager", mobile="07700 900303")
TA = staff("se-ta", "Tam Assist", "ta", mobile="07700 900304")
NEARBY = staff("se-nearby", "Nico Nearby", "pastoral", mobile="07700 900305")
SIX = ["behaviour", "environment", "home-circumstances", "travel", "time-of-day", "mobile-coverage"]
ALTERNATIVES = [
    {"method": "video-call", "why_not": "The family has no device for a Teams call."},
    {"method": "meeting-elsewhere", "why_not": "Mum cannot leave the baby."},
    {"method": "public-premises", "why_not": "No interview room within reach by bus."},
    {"method": "private-premises", "why_not": "None suitable nearby."},
]

BASE = {
    "reason": "attendance",
    "planned_with": MANAGER,
    "alternatives_considered": ALTERNATIVES,
    "risk_assessment": {"code_word": "lantern", "covers": SIX, "signed_off_by": HEAD,
                        "contact_interval_minutes": 30,
                        "missed_contact_procedure": "Office calls the staff, then the buddy, then the headteacher."},
}
kit = PolicyKit(plugin, base=BASE)
VISITS = Path(__file__).resolve().parents[3] / "fixtures" / "visits"

START = at_london(date(2026, 11, 23), time(10, 0))
"""The kit's baseline visit runs 10:00–11:00 on Monday 23 November 2026."""


def minutes_after_start(n: int) -> datetime:
    return START + timedelta(minutes=n)


def evening(**fields) -> dict:
    """The baseline visit moved to 17:30–18:30 with one member of staff."""
    begins = at_london(date(2026, 11, 23), time(17, 30))
    return {"planned_start": begins.isoformat(), "expected_return": (begins + timedelta(hours=1)).isoformat(),
            "staff": [TA], **fields}


OUT = {"signed_out_at": minutes_after_start(-10).isoformat()}


def test_the_plugin_is_installed_for_its_school():
    info = installed_policies().info("st-edwards")
    assert info.school_name == "St Edwards Catholic Primary School"
    assert (info.source_document, info.policy_date, info.review_by) == ("st-edwards.txt", None, None)


def test_plugin_keeps_the_contract():
    kit.check_contract()


def test_a_well_planned_visit_raises_nothing():
    kit.assert_clean(kit.visit())


def test_a_policy_without_a_review_date_is_only_an_info_reminder():
    finding = kit.assert_finding(kit.visit(), "core.policy-review-overdue", severity="info")
    assert "no review date" in finding.message


CASES = [
    ("st-edwards.purpose-agreed", "block", {"planned_with": None}, {"planned_with": DSL}, None),
    ("st-edwards.purpose-agreed", "block", {"planned_with": TA}, {"planned_with": MANAGER}, None),
    ("st-edwards.purpose-agreed", "block", {"purpose": " "}, {"purpose": "Talk about mornings."}, None),
    ("st-edwards.alternatives-first", "warn", {"alternatives_considered": ALTERNATIVES[:3]},
     {"alternatives_considered": ALTERNATIVES[:3], "emergency": True}, None),
    ("st-edwards.alternatives-first", "warn", {"alternatives_considered": []},
     {"alternatives_considered": ALTERNATIVES}, None),
    ("st-edwards.avoid-unannounced", "warn", {"parents_informed": False},
     {"parents_informed": False, "emergency": True}, None),
    ("st-edwards.risk-assessment-always", "block", {"risk_assessment.covers": SIX[:5]},
     {"risk_assessment.covers": SIX}, None),
    ("st-edwards.risk-assessment-always", "block", {"risk_assessment": None},
     {"risk_assessment": BASE["risk_assessment"]}, None),
    ("st-edwards.risk-assessment-always", "warn", {"risk_assessment.covers": [], "emergency": True},
     {"risk_assessment.covers": SIX, "emergency": True}, None),
    ("st-edwards.no-info-no-solo", "block", {"family.information": "little-or-none", "staff": [TA]},
     {"family.information": "little-or-none", "staff": [TA, NEARBY]}, None),
    ("st-edwards.no-info-no-solo", "block", {"family.information": "little-or-none", "staff": [TA]},
     {"family.information": "some", "staff": [TA]}, None),
    ("st-edwards.out-of-hours-second-staff", "block", evening(), evening(staff=[TA, NEARBY]), None),
    ("st-edwards.out-of-hours-second-staff", "block", evening(),
     evening(nearby_staff=NEARBY), None),
    ("st-edwards.out-of-hours-second-staff", "block",
     evening(nearby_staff=NEARBY, **{"risk_assessment.code_word": None}), evening(nearby_staff=NEARBY), None),
    ("st-edwards.out-of-hours-second-staff", "block", evening(),
     {**evening(), "planned_start": minutes_after_start(0).isoformat(),
      "expected_return": minutes_after_start(60).isoformat()}, None),
    ("st-edwards.signed-off", "block", {"risk_assessment.signed_off_by": None},
     {"risk_assessment.signed_off_by": HEAD}, None),
    ("st-edwards.signed-off", "block", {"risk_assessment.signed_off_by": MANAGER},
     {"risk_assessment.signed_off_by": DSL}, None),
    ("st-edwards.no-entry-without-parent", "block",
     {"outcome": {"entered_home": True, "parent_present_inside": False}},
     {"outcome": {"entered_home": True, "parent_present_inside": True}}, None),
    ("st-edwards.no-entry-without-parent", "block",
     {"outcome": {"entered_home": True, "parent_present_inside": False}},
     {"emergency": True, "outcome": {"entered_home": True, "parent_present_inside": False}}, None),
    ("st-edwards.regular-contact", "block", {"risk_assessment.contact_interval_minutes": None},
     {"risk_assessment.contact_interval_minutes": 20}, None),
    ("st-edwards.regular-contact", "block", {"risk_assessment.missed_contact_procedure": ""},
     {"risk_assessment.missed_contact_procedure": "Office rings the buddy, then the head."}, None),
    ("st-edwards.regular-contact", "block", OUT,
     {**OUT, "check_ins": [{"at": minutes_after_start(15).isoformat(), "kind": "staff-call"}]},
     minutes_after_start(25)),
    ("st-edwards.arrival-departure-times", "block", {"outcome": {"arrived_at": START.isoformat()}},
     {"outcome": {"arrived_at": START.isoformat(), "departed_at": minutes_after_start(45).isoformat()}}, None),
    ("st-edwards.arrival-departure-times", "block", {"outcome": {"cancelled": True, "arrived_at": START.isoformat()}},
     {"outcome": {"cancelled": True}}, None),
    ("st-edwards.report-to-head", "block", {"outcome": {"reported_to_head": False}},
     {"outcome": {"reported_to_head": True}}, None),
]


@pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps", "now"), CASES, ids=case_ids(CASES))
def test_each_rule_fires_when_broken_and_not_on_the_nearest_good_visit(rule_id, severity, breaks, keeps, now):
    finding = kit.assert_rule_case(rule_id, severity, breaks, keeps, now=now)
    assert finding.clause.startswith("St Edwards policy — §")


def test_every_st_edwards_rule_has_a_case():
    assert kit.rules_without_cases(case[0] for case in CASES) == set()
    assert len(kit.rule_ids()) == 11


ENTERED_ALONE = {"entered_home": True, "parent_present_inside": False}


@pytest.mark.parametrize("recorded", [
    {"check_ins": [{"at": minutes_after_start(2).isoformat(), "kind": "staff-call", "emergency": True,
                    "note": "Toddler alone in the house, crying; going in."}]},
    {"outcome": {**ENTERED_ALONE, "emergency": True}},
], ids=["at-check-in", "in-the-report"])
def test_an_emergency_found_at_the_door_makes_entering_without_a_parent_no_breach(recorded):
    # §1 General: staff do not enter a home with the parent/carer absent "other than in an emergency".
    # An emergency can show itself only at the door (a child found alone and at risk): recorded then, or
    # in the report, it is the exception, though the visit was not planned as one.
    entered = kit.visit(**OUT, outcome=ENTERED_ALONE)
    assert not entered.emergency
    kit.assert_finding(entered, "st-edwards.no-entry-without-parent")
    kit.assert_no_finding(kit.change(entered, recorded), "st-edwards.no-entry-without-parent")


def test_going_in_without_a_parent_reported_at_a_check_in_is_flagged_while_staff_are_there():
    # §1 General applies while staff are at the home, not only once the report is written.
    def going_in(**said):
        return {"at": minutes_after_start(3).isoformat(), "kind": "staff-call", "entered_home": True, **said}

    alone = kit.visit(**OUT, check_ins=[going_in(parents_present=False)])
    assert alone.outcome is None
    kit.assert_finding(alone, "st-edwards.no-entry-without-parent")
    kit.assert_no_finding(kit.visit(**OUT, check_ins=[going_in(parents_present=False, emergency=True)]),
                          "st-edwards.no-entry-without-parent")
    kit.assert_no_finding(kit.visit(**OUT, check_ins=[going_in(parents_present=True)]),
                          "st-edwards.no-entry-without-parent")


@pytest.mark.parametrize("missing", ["risk_assessment.contact_interval_minutes",
                                     "risk_assessment.missed_contact_procedure"])
def test_the_contact_interval_and_missed_report_procedure_are_checked_before_sign_out(missing):
    # §4 Procedures (and §6): the buddy interval and what to do if staff fail to report back must be
    # settled while someone can still act, so the rule speaks before staff leave, not once they are out.
    def sign_out_gate(visit):
        assert visit.stage_reached is Stage.SIGN_OUT  # staff have not left yet
        return {f.rule_id for f in kit.policies.all_findings(visit, kit.now, kit.options, upto=Stage.SIGN_OUT)}

    assert "st-edwards.regular-contact" in sign_out_gate(kit.change(kit.visit(), {missing: None}))
    assert "st-edwards.regular-contact" not in sign_out_gate(kit.visit())


def test_contact_falls_due_at_the_agreed_interval_after_the_last_contact():
    out = kit.visit(**OUT)  # signed out at 09:50, interval 30 minutes
    kit.assert_no_finding(out, "st-edwards.regular-contact", now=minutes_after_start(20))
    finding = kit.assert_finding(out, "st-edwards.regular-contact", now=minutes_after_start(21))
    assert "10:20" in finding.message
    back = kit.change(out, {"returned_at": minutes_after_start(15).isoformat()})
    kit.assert_no_finding(back, "st-edwards.regular-contact", now=minutes_after_start(90))


@pytest.mark.parametrize("school_day", [["8.45am", "15:15"], "08:45-15:15", ["15:15", "08:45"], ["08:45"]])
def test_a_malformed_school_day_option_is_a_config_error_naming_it(school_day):
    odd = PolicyKit(plugin, base=BASE, options={"school_day": school_day})
    with pytest.raises(ConfigError, match="school_day"):
        odd.findings(kit.visit(staff=[TA]), Stage.AUTHORISE)


def test_a_named_delegate_may_sign_off_the_controls():
    visit = kit.visit(**{"risk_assessment": {**BASE["risk_assessment"], "signed_off_by": MANAGER}})
    kit.assert_finding(visit, "st-edwards.signed-off")
    PolicyKit(plugin, base=BASE, options={"delegates": ["se-lm"]}).assert_no_finding(visit, "st-edwards.signed-off")
    PolicyKit(plugin, base=BASE, options={"delegates": "se-lm"}).assert_no_finding(visit, "st-edwards.signed-off")
    # One delegate written as a string names that person, not everyone whose id is part of it.
    PolicyKit(plugin, base=BASE, options={"delegates": "se-lm-2"}).assert_finding(visit, "st-edwards.signed-off")


@pytest.mark.parametrize(("options", "problem"), [
    ({"delegates": ["se-lm"], "school_day": ["08:30", "15:30"]}, None),
    ({"delegates": 7}, "st-edwards's policy option delegates is 7: give staff directory ids"),
    ({"school_day": "all day"}, "st-edwards's policy option school_day is 'all day'"),
    ({"delegate": "se-lm"}, "st-edwards's policy reads no option 'delegate' (it reads: delegates, school_day)"),
])
def test_config_check_reads_every_option_up_front_naming_the_file(options, problem):
    odd = PolicyKit(plugin, base=BASE, options=options)
    ctx = odd.policies.context(odd.school, odd.now, odd.options)
    found = [m for answer in odd.policies.hook(odd.school, "policy_option_problems")(
        ctx=ctx, config_file="/etc/hv-connector/hvc.toml") for m in answer]
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(problem), found
        assert found[0].endswith("under [schools.st-edwards.options] in /etc/hv-connector/hvc.toml"), found


@pytest.mark.parametrize(("start", "outside"), [
    ("2026-10-23T15:00:00+01:00", True),   # BST: ends 16:00 local although 15:00 UTC
    ("2026-10-23T08:00:00+00:00", False),  # 09:00 BST
    ("2026-10-26T08:00:00+00:00", True),   # after the clocks go back: 08:00 GMT
    ("2026-10-26T14:00:00+00:00", False),
    ("2026-10-31T10:00:00+00:00", True),   # a Saturday
])
def test_school_hours_follow_the_london_clock(start, outside):
    begins = datetime.fromisoformat(start)
    visit = kit.visit(staff=[TA], planned_start=begins.isoformat(),
                      expected_return=(begins + timedelta(hours=1)).isoformat())
    fired = any(f.rule_id == "st-edwards.out-of-hours-second-staff" for f in kit.findings(visit, Stage.AUTHORISE))
    assert fired is outside


def test_the_headteacher_or_designated_person_authorises():
    assert kit.policies.ask("st-edwards", "authoriser_roles", visit=kit.visit()) == ["headteacher", "dsl"]


def test_the_risk_template_lists_the_six_topics_and_who_signs_off():
    template = kit.policies.ask("st-edwards", "risk_assessment_template", visit=kit.visit())
    assert len(template.topics) == 6 and any("mobile coverage" in t for t in template.topics)
    assert template.sign_off_roles == ("headteacher", "dsl")


def test_the_checkin_plan_uses_the_agreed_interval_and_ends_with_leaving_the_address():
    plan = kit.policies.ask("st-edwards", "checkin_plan",
                            visit=kit.visit(**{"risk_assessment": {**BASE["risk_assessment"],
                                                                   "contact_interval_minutes": 20}}))
    interval = next(s for s in plan.steps if s.kind == "interval")
    assert (interval.anchor, interval.offset_minutes) == ("interval", 20)
    assert plan.steps[-1].kind == "left-home" and "no longer at the address" in plan.steps[-1].description


def test_a_nearby_colleague_interrupts_halfway_through():
    plan = kit.policies.ask("st-edwards", "checkin_plan", visit=kit.visit(**evening(nearby_staff=NEARBY)))
    interruption = [s for s in plan.steps if "password" in s.description]
    assert [s.offset_minutes for s in interruption] == [30]


def test_a_missed_report_goes_office_then_headteacher_then_999():
    chain = kit.policies.ask("st-edwards", "escalation_chain", visit=kit.visit())
    assert [s.who[0] for s in chain] == ["office", "headteacher", "headteacher"]
    assert [s.emergency for s in chain] == [False, False, True] and "999" in chain[-1].action


@pytest.mark.parametrize(("kind", "changes", "names"), [
    ("home-visit", {}, ["Home Visit"]),
    ("home-visit", {"reason": "new-starter"}, ["Home Visit", "Parental Contact"]),
    ("concern", {}, ["Safeguarding", "Home Visit"]),
    ("concern", {"statutory_cp": True}, ["Child Protection", "Home Visit"]),
    ("attendance", {}, ["Attendance", "Home Visit"]),
    ("cancelled", {}, ["Home Visit"]),
])
def test_cpoms_categories(kind, changes, names):
    assert kit.policies.ask("st-edwards", "cpoms_categories", visit=kit.visit(**changes), kind=kind) == names


def follow_up_texts(outcome: dict) -> list[str]:
    answers = kit.policies.ask("st-edwards", "follow_ups", visit=kit.visit(outcome=outcome))
    return [f.text for answer in answers for f in answer]


def test_the_report_goes_to_the_headteacher_or_designated_person():
    assert any("headteacher or the designated person" in t for t in follow_up_texts({}))
    assert not any(t.startswith("Report on the visit") for t in follow_up_texts({"reported_to_head": True}))


def test_an_aborted_visit_and_an_incident_reach_the_headteacher():
    texts = follow_up_texts({"reported_to_head": True, "cancelled": True, "cancelled_for_safety": True,
                             "violence_or_abuse": True, "concerns": "Shouting at the door."})
    assert any("decides what happens next" in t for t in texts)
    assert any("LAC" in t for t in texts)
    assert any("manager" in t for t in texts)


def test_the_sample_visits_read_as_the_policy_says():
    now = at_london(date(2026, 11, 23), time(8, 0))
    kit.assert_clean(load_visit(VISITS / "st-edwards-ready.json"), now=now)
    solo = load_visit(VISITS / "st-edwards-unannounced-solo.json")
    found = {(f.rule_id, f.severity.value) for f in kit.findings(solo, now=now)}
    assert {("st-edwards.no-info-no-solo", "block"), ("st-edwards.avoid-unannounced", "warn")} <= found
