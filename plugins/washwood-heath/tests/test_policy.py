"""Washwood Heath's policy plugin, checked with hv-connector's testing kit.

For every rule: a visit that breaks it yields the rule's finding, and the
nearest visit that keeps it does not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hv_connector.clock import LONDON
from hv_connector.models import Severity, Stage
from hv_connector.testing import PolicyKit, case_ids, installed_policies, policy_check, staff
from hv_connector.visits.files import load_visit
from hvc_washwood_heath import plugin

LINE_MANAGER = staff("wh-lm", "Lena Manager", "line-manager")
SLT = staff("wh-slt", "Sam Leader", "slt")
kit = PolicyKit(plugin, base={"reason": "attendance", "planned_with": LINE_MANAGER})
VISITS = Path(__file__).resolve().parents[3] / "fixtures" / "visits"

LONE = kit.visit_data()["staff"][:1]
OUT = {"signed_out_at": "2026-11-23T09:55:00+00:00"}
REFERRAL = {"service": "Early Help", "coordinated": True, "risk_plan": True}


def at(start: str, end: str) -> dict[str, Any]:
    return {"planned_start": start, "expected_return": end}


def test_the_plugin_is_installed_for_its_school() -> None:
    info = installed_policies().info("washwood-heath")
    assert info.school_name == "Washwood Heath Academy"
    assert info.source_document == "washwood-heath.txt"
    assert info.review_by is None and info.policy_date is None


def test_plugin_keeps_the_contract() -> None:
    kit.check_contract()


def test_a_well_planned_visit_raises_nothing() -> None:
    kit.assert_clean(kit.visit())


# rule id, severity, a change that breaks it, the nearest change that keeps it, when to check (default: the kit's now)
CASES: list[tuple[str, Severity, dict[str, Any], dict[str, Any], datetime | None]] = [
    ("washwood-heath.accompanied", Severity.BLOCK,
     {"staff": LONE}, {"staff": [*LONE, staff("wh-2", "Ola Second", "pastoral", mobile="07700 900502")]}, None),
    ("washwood-heath.coordinated-by-line-manager", Severity.BLOCK,
     {"planned_with": staff("wh-t", "Tom Teacher", "teacher")}, {"planned_with": SLT}, None),
    ("washwood-heath.coordinated-by-line-manager", Severity.BLOCK,
     {"planned_with": None}, {"planned_with": None, "requested_by": LINE_MANAGER}, None),
    ("washwood-heath.external-referral-plan", Severity.BLOCK,
     {"reason": "referred-family"}, {"reason": "referred-family", "external_referral": REFERRAL}, None),
    ("washwood-heath.external-referral-plan", Severity.BLOCK,
     {"external_referral": {**REFERRAL, "risk_plan": False}}, {"external_referral": REFERRAL}, None),
    ("washwood-heath.external-referral-plan", Severity.BLOCK,
     {"external_referral": {**REFERRAL, "coordinated": False}}, {"external_referral": None}, None),
    ("washwood-heath.not-after-4pm", Severity.BLOCK,
     at("2026-11-23T16:01:00+00:00", "2026-11-23T17:00:00+00:00"),
     at("2026-11-23T16:00:00+00:00", "2026-11-23T17:00:00+00:00"), None),
    ("washwood-heath.not-after-4pm", Severity.BLOCK,
     {**at("2026-11-28T10:00:00+00:00", "2026-11-28T11:00:00+00:00"), "out_of_hours_arranged_by": LINE_MANAGER},
     at("2026-11-27T10:00:00+00:00", "2026-11-27T11:00:00+00:00"), None),  # a Saturday; the Friday before
    ("washwood-heath.not-after-4pm", Severity.BLOCK,
     at("2026-11-23T07:30:00+00:00", "2026-11-23T08:30:00+00:00"),
     at("2026-11-23T08:00:00+00:00", "2026-11-23T09:00:00+00:00"), None),
    ("washwood-heath.sign-out", Severity.BLOCK, {"logged_with_office": False}, {"logged_with_office": True}, None),
    ("washwood-heath.do-not-enter", Severity.BLOCK,
     {"outcome": {"entry_concerns": ["under-influence"], "entered_home": True}},
     {"outcome": {"entry_concerns": ["under-influence"], "entered_home": False}}, None),
    ("washwood-heath.do-not-enter", Severity.BLOCK,
     {"outcome": {"entry_concerns": ["arranged-person-absent", "known-violent-person"], "entered_home": True}},
     {"outcome": {"entry_concerns": [], "entered_home": True}}, None),
    ("washwood-heath.escalation", Severity.BLOCK,
     OUT, {**OUT, "returned_at": "2026-11-23T10:59:00+00:00"}, datetime(2026, 11, 23, 11, 5, tzinfo=LONDON)),
    ("washwood-heath.escalation", Severity.BLOCK,
     {**OUT, "check_ins": [{"at": "2026-11-23T10:15:00+00:00", "kind": "staff-call", "code_word_used": True}]},
     OUT, datetime(2026, 11, 23, 10, 20, tzinfo=LONDON)),
    ("washwood-heath.incident-report", Severity.BLOCK,
     {"outcome": {"violence_or_abuse": True, "discussion": "Shouted at.", "action_points": ["none"]}},
     {"outcome": {"violence_or_abuse": True, "incident_reported_to_line_manager": True,
                  "discussion": "Shouted at.", "action_points": ["none"]}}, None),
    ("washwood-heath.cp-training", Severity.BLOCK,
     {"staff": [*LONE, staff("wh-3", "New Starter", "ta", mobile="07700 900503", cp_trained_on=None)]},
     {"staff": [*LONE, staff("wh-3", "New Starter", "ta", mobile="07700 900503")]}, None),
    ("washwood-heath.cpoms-upload", Severity.BLOCK,
     {"outcome": {"discussion": "Attendance plan.", "action_points": []}},
     {"outcome": {"discussion": "Attendance plan.", "action_points": ["Review in two weeks"]}}, None),
    ("washwood-heath.cpoms-upload", Severity.BLOCK,
     {"outcome": {"discussion": " ", "action_points": ["Review in two weeks"]}},
     {"outcome": {"cancelled": True, "cancellation_reason": "Nobody home"}}, None),
]


@pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps", "now"), CASES, ids=case_ids(CASES))
def test_each_rule_fires_when_broken_and_not_when_kept(
    rule_id: str, severity: Severity, breaks: dict[str, Any], keeps: dict[str, Any], now: datetime | None
) -> None:
    finding = kit.assert_rule_case(rule_id, severity, breaks, keeps, now=now)
    assert finding.message and finding.clause.startswith("Washwood Heath policy — ")


def test_every_rule_has_a_case() -> None:
    assert kit.rules_without_cases(case[0] for case in CASES) == set()


def test_an_slt_arranged_evening_visit_is_allowed_with_a_home_safe_reminder() -> None:
    evening = kit.visit(**at("2026-11-23T17:00:00+00:00", "2026-11-23T18:00:00+00:00"),
                        out_of_hours_arranged_by=SLT, returning_to_school=False)
    kit.assert_clean(evening)
    kit.assert_finding(evening, "washwood-heath.not-after-4pm", severity=Severity.INFO)
    plan = kit.policies.ask("washwood-heath", "checkin_plan", visit=evening)
    assert [s.kind for s in plan.steps] == ["home-safe"]
    assert kit.policies.ask("washwood-heath", "authoriser_roles", visit=evening) == ["slt", "headteacher"]


@pytest.mark.parametrize(("start", "out_of_hours"), [("16:00", False), ("16:01", True)])
def test_a_visit_arranged_for_four_pm_itself_is_not_out_of_hours(start: str, out_of_hours: bool) -> None:
    # Employees safety: visits are not arranged *after* 4.00pm, so 16:00 on the dot is still in hours.
    visit = kit.visit(**at(f"2026-11-23T{start}:00+00:00", "2026-11-23T17:00:00+00:00"))
    fired = [f for f in kit.findings(visit, Stage.AUTHORISE) if f.rule_id == "washwood-heath.not-after-4pm"]
    assert bool(fired) is out_of_hours


@pytest.mark.parametrize(("start", "blocked"), [
    # Friday before the clocks go back (BST, UTC+1): 15:30Z is 16:30 in London.
    ("2026-10-23T15:30:00Z", True),
    ("2026-10-23T14:45:00Z", False),
    # Monday after (GMT): 15:30Z is 15:30 in London; 16:30Z is 16:30.
    ("2026-10-26T15:30:00Z", False),
    ("2026-10-26T16:30:00Z", True),
])
def test_four_pm_is_london_time_across_the_october_clock_change(start: str, blocked: bool) -> None:
    begin = datetime.fromisoformat(start)
    visit = kit.visit(planned_start=begin.isoformat(), expected_return=begin.replace(minute=59).isoformat())
    found = [f for f in kit.findings(visit, Stage.AUTHORISE, datetime(2026, 10, 1, 8, 0, tzinfo=LONDON))
             if f.rule_id == "washwood-heath.not-after-4pm"]
    assert bool(found) is blocked


@pytest.mark.parametrize(("minutes_late", "step"), [(5, "staff's mobiles"), (20, "student's home"),
                                                    (35, "members of SLT"), (50, "police")])
def test_the_overdue_message_names_the_step_of_the_chain_now_due(minutes_late: int, step: str) -> None:
    visit = kit.visit(**OUT)
    now = datetime(2026, 11, 23, 11, minutes_late, tzinfo=LONDON)
    assert step in kit.assert_finding(visit, "washwood-heath.escalation", now=now).message


def test_escalation_goes_office_manager_home_slt_police() -> None:
    chain = kit.policies.ask("washwood-heath", "escalation_chain", visit=kit.visit())
    assert [s.who[0] for s in chain] == ["office-manager", "office-manager", "slt", "slt"]
    assert [s.emergency for s in chain] == [False, False, False, True]


def test_an_incident_is_followed_up_by_the_line_manager() -> None:
    visit = kit.visit(outcome={"violence_or_abuse": True})
    follow = [f for answer in kit.policies.ask("washwood-heath", "follow_ups", visit=visit) for f in answer]
    assert any("line-manager" in f.who and "incident" in f.text for f in follow)
    assert kit.policies.ask("washwood-heath", "cpoms_categories", visit=visit, kind="concern")[0] == "Safeguarding"


def test_the_sample_visits_pass_and_fail_as_described() -> None:
    kit.assert_clean(load_visit(VISITS / "washwood-heath-ready.json"))
    problems = load_visit(VISITS / "washwood-heath-after-4pm.json")
    blocks = {f.rule_id for f in kit.findings(problems) if f.severity is Severity.BLOCK}
    assert {"washwood-heath.not-after-4pm", "washwood-heath.accompanied", "washwood-heath.cp-training",
            "washwood-heath.external-referral-plan"} <= blocks


def test_hvc_policy_check_exits_1_on_the_problem_visit() -> None:
    result = policy_check(VISITS / "washwood-heath-after-4pm.json", stage="authorise")
    assert result.returncode == 1
    assert "washwood-heath.not-after-4pm" in result.stdout
