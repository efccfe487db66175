"""Birchwood's policy plugin, checked with hv-connector's testing kit.

For every rule: a visit that breaks it yields the rule's finding, and the
nearest visit that keeps it does not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hv_connector.clock import LONDON
from hv_connector.errors import ConfigError
from hv_connector.models import Severity, Stage
from hv_connector.testing import PolicyKit, case_ids, installed_policies, policy_check, staff
from hv_connector.visits.files import load_visit
from hvc_birchwood import plugin
from hvc_birchwood.policy import RISK_TEMPLATE

FULL_ASSESSMENT = {
    "code_word": "kestrel",
    "hazards": [{"hazard": h.hazard, "controls": list(h.controls), "rating": h.default_rating or "L"}
                for h in RISK_TEMPLATE.hazards],
}
BASE = {"reason": "attendance", "risk_assessment": FULL_ASSESSMENT}
kit = PolicyKit(plugin, base=BASE)
VISITS = Path(__file__).resolve().parents[3] / "fixtures" / "visits"

LONE = kit.visit_data()["staff"][:1]
TEACHER = staff("t1", "Terry Teacher", "teacher")
LINE_MANAGER = staff("lm1", "Lee Manager", "line-manager")
CP_OUTCOME = {"child_seen": True, "concerns": "Bruise on the child's arm.", "cp_concern": True}


def test_the_plugin_is_installed_for_its_school() -> None:
    info = installed_policies().info("birchwood")
    assert info.school_name.startswith("Birchwood Community High School")
    assert info.source_document == "birchwood.txt"
    assert info.review_by is not None and info.review_by.isoformat() == "2027-09-30"


def test_plugin_keeps_the_contract() -> None:
    kit.check_contract()


def test_a_well_planned_visit_raises_nothing() -> None:
    visit = kit.visit()
    kit.assert_clean(visit)
    assert not [f for f in kit.findings(visit) if f.rule_id.startswith("birchwood.")
                and f.stage in (Stage.REQUEST, Stage.AUTHORISE, Stage.SIGN_OUT)]


def at(day: str, start: str, end: str) -> dict[str, Any]:
    return {"planned_start": f"{day}T{start}", "expected_return": f"{day}T{end}"}


# rule id, severity, a change that breaks it, the nearest change that keeps it
CASES: list[tuple[str, Severity, dict[str, Any], dict[str, Any]]] = [
    ("birchwood.authorised-by-dsl-or-slt", Severity.BLOCK,
     {"authorised_by": TEACHER}, {"authorised_by": staff("d1", "Dee Lead", "dsl")}),
    ("birchwood.authorised-by-dsl-or-slt", Severity.BLOCK,
     {"authorised_by": None}, {"authorised_by": staff("s9", "Sol Senior", "slt")}),
    ("birchwood.parents-informed", Severity.WARN,
     {"parents_informed": False}, {"parents_informed": True}),
    ("birchwood.parents-informed", Severity.WARN,
     {"parents_informed": False, "reason": "contact-failed"},
     {"parents_informed": False, "parents_not_responding": True, "reason": "contact-failed"}),
    ("birchwood.parents-informed", Severity.WARN,
     {"parents_informed": False, "emergency": True},
     {"parents_informed": False, "emergency": True, "safeguarding": True}),
    ("birchwood.reasons", Severity.BLOCK, {"reason": "tuition"}, {"reason": "suspected-holiday"}),
    ("birchwood.reasons", Severity.BLOCK, {"purpose": " "}, {"purpose": "Agree an attendance plan."}),
    ("birchwood.second-staff-if-concerns", Severity.BLOCK,
     {"family.concerns": True, "staff": LONE}, {"family.concerns": True}),
    ("birchwood.second-staff-if-concerns", Severity.BLOCK,
     {"family.known_violent_person": True, "staff": LONE}, {"family.known_violent_person": False, "staff": LONE}),
    ("birchwood.risk-assessment-if-concerns", Severity.BLOCK,
     {"family.concerns": True}, {"family.concerns": True, "risk_assessment.completed_with": LINE_MANAGER}),
    ("birchwood.risk-assessment-if-concerns", Severity.BLOCK,
     {"family.concerns": True, "risk_assessment.completed_with": TEACHER},
     {"family.concerns": True, "risk_assessment.completed_with": LINE_MANAGER}),
    ("birchwood.risk-assessment-if-concerns", Severity.BLOCK,
     {"family.concerns": True, "risk_assessment.hazards": [], "risk_assessment.completed_with": LINE_MANAGER},
     {"family.concerns": False, "risk_assessment.hazards": []}),
    ("birchwood.line-manager-informed", Severity.BLOCK,
     {"line_manager_informed": False}, {"line_manager_informed": True}),
    ("birchwood.no-evening-visits", Severity.WARN,
     at("2026-11-23", "16:30:00+00:00", "17:30:00+00:00"), at("2026-11-23", "16:00:00+00:00", "17:00:00+00:00")),
    ("birchwood.no-evening-visits", Severity.WARN,
     at("2026-11-23", "17:00:00+00:00", "17:45:00+00:00"), at("2026-11-23", "08:30:00+00:00", "09:30:00+00:00")),
    ("birchwood.safe-word", Severity.BLOCK, {"risk_assessment.code_word": None}, {"risk_assessment.code_word": "owl"}),
    ("birchwood.safe-word", Severity.BLOCK, {"risk_assessment.code_word": "  "}, {"risk_assessment.code_word": "owl"}),
    ("birchwood.no-solo-if-unmitigated", Severity.BLOCK,
     {"staff": LONE, "risk_assessment.concerns_mitigated": False},
     {"staff": LONE, "risk_assessment.concerns_mitigated": True}),
    ("birchwood.no-solo-if-unmitigated", Severity.BLOCK,
     {"staff": LONE, "risk_assessment.concerns_mitigated": False},
     {"risk_assessment.concerns_mitigated": False}),
    ("birchwood.phone-after-visit", Severity.INFO,
     {"returning_to_school": False},
     {"returning_to_school": False, "check_ins": [{"at": "2026-11-23T10:50:00+00:00", "kind": "left-home"}]}),
    ("birchwood.phone-after-visit", Severity.INFO, {"returning_to_school": False}, {"returning_to_school": True}),
    ("birchwood.cp-to-dsl-on-return", Severity.BLOCK,
     {"outcome": CP_OUTCOME}, {"outcome": {**CP_OUTCOME, "cp_discussed_with_dsl": True}}),
    ("birchwood.hazards", Severity.INFO,
     {"risk_assessment.hazards": FULL_ASSESSMENT["hazards"][:4]}, {}),
    ("birchwood.hazards", Severity.INFO,
     {"risk_assessment.hazards": [*FULL_ASSESSMENT["hazards"][:4], {"hazard": RISK_TEMPLATE.hazards[4].hazard,
                                                                    "controls": ["Keep away"]}]},
     {"risk_assessment.hazards": [*FULL_ASSESSMENT["hazards"][:4], {"hazard": RISK_TEMPLATE.hazards[4].hazard,
                                                                    "controls": ["Keep away"], "rating": "M"}]}),
    ("birchwood.hazards", Severity.INFO, {"risk_assessment": None}, {}),
]


@pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps"), CASES, ids=case_ids(CASES))
def test_each_rule_fires_when_broken_and_not_when_kept(
    rule_id: str, severity: Severity, breaks: dict[str, Any], keeps: dict[str, Any]
) -> None:
    finding = kit.assert_rule_case(rule_id, severity, breaks, keeps)
    assert finding.message and finding.clause.startswith("Birchwood policy — ")


def test_every_rule_has_a_case() -> None:
    assert kit.rules_without_cases(case[0] for case in CASES) == set()


@pytest.mark.parametrize("about_safeguarding", [{"reason": "welfare-check"}, {"safeguarding": True}],
                         ids=["welfare-check", "safeguarding"])
def test_a_welfare_or_safeguarding_visit_needs_two_staff_without_ticking_concerns(
    about_safeguarding: dict[str, Any]
) -> None:
    # Before the Visit: a visit made because of a welfare or safeguarding worry is itself a concern
    # about the family, so two staff go and the line manager risk-assesses it first.
    lone = kit.visit(staff=LONE, **about_safeguarding)
    assert not lone.family.concerns
    kit.assert_finding(lone, "birchwood.second-staff-if-concerns", severity=Severity.BLOCK)
    kit.assert_finding(lone, "birchwood.risk-assessment-if-concerns", severity=Severity.BLOCK)
    kit.assert_no_finding(kit.visit(**about_safeguarding), "birchwood.second-staff-if-concerns")


def test_a_lone_visit_with_concerns_and_no_assessment_showing_them_mitigated_is_not_made_alone() -> None:
    # Final note: with concerns that no risk assessment shows mitigated, nobody goes alone; an
    # assessment that has not been made cannot say "mitigated", so silence is not permission.
    unassessed = kit.visit(staff=LONE, **{"family": {"concerns": True}, "risk_assessment": None})
    finding = kit.assert_finding(unassessed, "birchwood.no-solo-if-unmitigated", severity=Severity.BLOCK)
    assert "do not go alone" in finding.message
    kit.assert_finding(kit.change(unassessed, {"risk_assessment": {"code_word": "owl"}}),
                       "birchwood.no-solo-if-unmitigated")
    assessed = kit.change(unassessed, {"risk_assessment": FULL_ASSESSMENT})
    kit.assert_no_finding(assessed, "birchwood.no-solo-if-unmitigated")
    kit.assert_no_finding(kit.change(unassessed, {"family.concerns": False}), "birchwood.no-solo-if-unmitigated")


@pytest.mark.parametrize("reason", ["attendance", "suspected-holiday", "welfare-check"])
def test_parents_not_answering_about_an_absent_child_need_not_be_told_whatever_the_reason(reason: str) -> None:
    # Opening statement on informing parents/carers: the exception is the situation (an absent child
    # whose parents/carers are not answering), not the reason code the visit was filed under.
    unanswered = kit.visit(reason=reason, parents_informed=False, parents_not_responding=True)
    kit.assert_no_finding(unanswered, "birchwood.parents-informed")
    kit.assert_finding(kit.change(unanswered, {"parents_not_responding": False}), "birchwood.parents-informed")


def test_the_evening_can_start_later_by_option() -> None:
    late = kit.change(kit.visit(), at("2026-11-23", "16:30:00+00:00", "17:30:00+00:00"))
    kit.assert_finding(late, "birchwood.no-evening-visits")
    PolicyKit(plugin, base=BASE, options={"evening_from": "18:00"}).assert_no_finding(
        late, "birchwood.no-evening-visits")


def test_a_malformed_evening_option_is_a_config_error_naming_it() -> None:
    odd = PolicyKit(plugin, base=BASE, options={"evening_from": "teatime"})
    with pytest.raises(ConfigError, match="evening_from"):
        odd.findings(kit.visit(), Stage.AUTHORISE)


@pytest.mark.parametrize(("start", "end", "evening"), [
    # Friday before the clocks go back (BST, UTC+1): 16:30Z is 17:30 in London.
    ("2026-10-23T15:45:00Z", "2026-10-23T16:30:00Z", True),
    ("2026-10-23T15:00:00Z", "2026-10-23T15:55:00Z", False),
    # Monday after (GMT): the same London times are an hour later in UTC.
    ("2026-10-26T16:45:00Z", "2026-10-26T17:30:00Z", True),
    ("2026-10-26T16:00:00Z", "2026-10-26T16:55:00Z", False),
])
def test_the_evening_is_london_time_across_the_october_clock_change(start: str, end: str, evening: bool) -> None:
    visit = kit.change(kit.visit(), {"planned_start": start, "expected_return": end})
    now = datetime(2026, 10, 1, 8, 0, tzinfo=LONDON)
    fired = [f for f in kit.findings(visit, Stage.AUTHORISE, now) if f.rule_id == "birchwood.no-evening-visits"]
    assert bool(fired) is evening


@pytest.mark.parametrize(("now", "overdue"), [
    # The policy is in date to 30 September 2027, a day in British Summer Time: 23:30Z is already
    # 00:30 on 1 October in London, however the moment of the check is written.
    ("2027-09-30T22:30:00+00:00", False),
    ("2027-09-30T23:30:00+00:00", True),
])
def test_the_review_falls_due_at_midnight_in_london(now: str, overdue: bool) -> None:
    found = [f for f in kit.findings(kit.visit(), Stage.AUTHORISE, datetime.fromisoformat(now))
             if f.rule_id == "core.policy-review-overdue"]
    assert bool(found) is overdue


def test_staff_not_going_back_to_school_phone_in_when_they_leave() -> None:
    assert kit.policies.ask("birchwood", "checkin_plan", visit=kit.visit()).steps == ()
    plan = kit.policies.ask("birchwood", "checkin_plan", visit=kit.visit(returning_to_school=False))
    assert [s.kind for s in plan.steps] == ["left-home"]


def test_escalation_goes_from_a_phone_call_to_the_dsl_to_999() -> None:
    chain = kit.policies.ask("birchwood", "escalation_chain", visit=kit.visit())
    assert [s.who for s in chain] == [("office", "line-manager"), ("dsl", "slt"), ("dsl", "slt")]
    assert chain[-1].emergency and "999" in chain[-1].action


def test_only_the_dsl_or_slt_may_authorise() -> None:
    roles = kit.policies.ask("birchwood", "authoriser_roles", visit=kit.visit())
    assert {"dsl", "slt"} <= set(roles) and "teacher" not in roles and "line-manager" not in roles


def test_the_risk_template_is_appendix_1() -> None:
    template = kit.policies.ask("birchwood", "risk_assessment_template", visit=kit.visit())
    assert len(template.hazards) == 5 and template.requires_code_word
    assert [h.default_rating for h in template.hazards] == ["L", "L", "L", "L", None]
    assert all(h.controls for h in template.hazards)


def test_a_child_protection_concern_is_filed_as_child_protection() -> None:
    concern = kit.visit(outcome=CP_OUTCOME)
    assert kit.policies.ask("birchwood", "cpoms_categories", visit=concern, kind="concern")[0] == "Child Protection"
    assert kit.policies.ask("birchwood", "cpoms_categories", visit=kit.visit(), kind="home-visit") == ["Home Visit"]


def test_follow_ups_send_concerns_to_the_line_manager() -> None:
    texts = [f.text for answer in kit.policies.ask("birchwood", "follow_ups", visit=kit.visit(outcome=CP_OUTCOME))
             for f in answer]
    assert any("line manager" in t for t in texts) and any("CPOMS" in t for t in texts)


def test_the_sample_visits_pass_and_fail_as_described() -> None:
    ready = load_visit(VISITS / "birchwood-ready.json")
    kit.assert_clean(ready)
    problems = load_visit(VISITS / "birchwood-concerns-solo.json")
    blocks = {f.rule_id for f in kit.findings(problems) if f.severity is Severity.BLOCK}
    assert {"birchwood.second-staff-if-concerns", "birchwood.no-solo-if-unmitigated",
            "birchwood.authorised-by-dsl-or-slt", "birchwood.safe-word"} <= blocks


def test_hvc_policy_check_exits_1_on_the_problem_visit() -> None:
    result = policy_check(VISITS / "birchwood-concerns-solo.json", stage="authorise")
    assert result.returncode == 1
    assert "birchwood.no-solo-if-unmitigated" in result.stdout
