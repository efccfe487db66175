"""Hexthorpe's policy plugin, checked with hv-connector's testing kit.

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
from hvc_hexthorpe import plugin

PFLO = staff("hx-pflo", "Pat Liaison", "pflo")
BASE = {"reason": "attendance", "planned_with": PFLO, "hygiene_checklist_done": True}
kit = PolicyKit(plugin, base=BASE)
VISITS = Path(__file__).resolve().parents[3] / "fixtures" / "visits"
# The policy's review date passed in September 2021: the core warns about that on every visit.
OVERDUE_POLICY = ("core.policy-review-overdue",)

LONE = kit.visit_data()["staff"][:1]
OUT = {"signed_out_at": "2026-11-23T09:55:00+00:00"}
LATE = datetime(2026, 11, 23, 11, 20, tzinfo=LONDON)  # the kit's visit is due back at 11:00


def test_the_plugin_is_installed_for_its_school() -> None:
    info = installed_policies().info("hexthorpe")
    assert info.school_name == "Hexthorpe Primary Academy"
    assert info.source_document == "hexthorpe.txt"
    assert info.review_by is not None and info.review_by.isoformat() == "2021-09-30"


def test_plugin_keeps_the_contract() -> None:
    kit.check_contract()


def test_a_well_planned_visit_raises_nothing_but_the_overdue_policy() -> None:
    visit = kit.visit()
    kit.assert_clean(visit, allow=OVERDUE_POLICY)
    kit.assert_finding(visit, "core.policy-review-overdue", severity=Severity.WARN)


# rule id, severity, a change that breaks it, the nearest change that keeps it, when to check (default: the kit's now)
CASES: list[tuple[str, Severity, dict[str, Any], dict[str, Any], datetime | None]] = [
    ("hexthorpe.coordinated-by-pflo", Severity.BLOCK,
     {"planned_with": staff("t1", "Terry Teacher", "teacher")}, {"planned_with": PFLO}, None),
    ("hexthorpe.coordinated-by-pflo", Severity.BLOCK,
     {"planned_with": None}, {"planned_with": None, "requested_by": PFLO}, None),
    ("hexthorpe.two-staff-always", Severity.BLOCK,
     {"staff": LONE}, {"staff": [*LONE, staff("hx-adm", "Ada Admin", "admin", mobile="07700 900402")]}, None),
    ("hexthorpe.phones-with-admin", Severity.BLOCK,
     {"phones_given_to_office": False}, {"phones_given_to_office": True}, None),
    ("hexthorpe.phones-with-admin", Severity.BLOCK,
     {"staff": [*LONE, staff("hx-adm", "Ada Admin", "admin", mobile=None)]},
     {"staff": [*LONE, staff("hx-adm", "Ada Admin", "admin", mobile="07700 900402")]}, None),
    ("hexthorpe.hygiene", Severity.INFO,
     {"hygiene_checklist_done": False}, {"hygiene_checklist_done": True}, None),
    ("hexthorpe.slt-if-safeguarding", Severity.BLOCK,
     {"safeguarding": True},
     {"safeguarding": True, "safeguarding_discussed_with": staff("hx-p", "Prue Principal", "headteacher")}, None),
    ("hexthorpe.slt-if-safeguarding", Severity.BLOCK,
     {"statutory_cp": True, "safeguarding_discussed_with": PFLO},
     {"statutory_cp": True, "safeguarding_discussed_with": staff("hx-s", "Sid Senior", "slt")}, None),
    ("hexthorpe.sign-out-reception", Severity.BLOCK,
     {"logged_with_office": False}, {"logged_with_office": True}, None),
    ("hexthorpe.escalation", Severity.BLOCK, OUT, {**OUT, "returned_at": "2026-11-23T10:58:00+00:00"}, LATE),
    ("hexthorpe.escalation", Severity.BLOCK,
     {**OUT, "escalation_started_at": "2026-11-23T11:05:00+00:00"},
     {**OUT, "expected_return": "2026-11-23T11:30:00+00:00"}, LATE),
    ("hexthorpe.escalation", Severity.BLOCK,
     {**OUT, "check_ins": [{"at": "2026-11-23T10:20:00+00:00", "kind": "staff-call", "concerns": True}]},
     {**OUT, "check_ins": [{"at": "2026-11-23T10:20:00+00:00", "kind": "staff-call"}]},
     datetime(2026, 11, 23, 10, 30, tzinfo=LONDON)),
    ("hexthorpe.cpoms-record", Severity.BLOCK,
     {"outcome": {"discussion": "Morning routine.", "action_points": []}},
     {"outcome": {"discussion": "Morning routine.", "action_points": ["PFLO calls on Friday"]}}, None),
    ("hexthorpe.cpoms-record", Severity.BLOCK,
     {"outcome": {"discussion": "", "action_points": ["none"]}},
     {"outcome": {"cancelled": True, "cancellation_reason": "Family away"}}, None),
]


@pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps", "now"), CASES, ids=case_ids(CASES))
def test_each_rule_fires_when_broken_and_not_when_kept(
    rule_id: str, severity: Severity, breaks: dict[str, Any], keeps: dict[str, Any], now: datetime | None
) -> None:
    finding = kit.assert_rule_case(rule_id, severity, breaks, keeps, now=now)
    assert finding.message and finding.clause.startswith("Hexthorpe policy — ")


def test_every_rule_has_a_case() -> None:
    assert kit.rules_without_cases(case[0] for case in CASES) == set()


@pytest.mark.parametrize(("now", "overdue"), [
    ("2026-10-25T01:15:00+01:00", False),  # 01:15 BST: a quarter of an hour before the 01:30 BST return
    ("2026-10-25T01:15:00+00:00", True),  # 01:15 GMT, after the clocks went back: 45 minutes late
])
def test_overdue_is_measured_in_real_time_across_the_october_clock_change(now: str, overdue: bool) -> None:
    visit = kit.visit(planned_start="2026-10-25T00:30:00+01:00", expected_return="2026-10-25T01:30:00+01:00",
                      signed_out_at="2026-10-25T00:20:00+01:00")
    found = [f for f in kit.findings(visit, Stage.RETURN, datetime.fromisoformat(now))
             if f.rule_id == "hexthorpe.escalation"]
    assert bool(found) is overdue


def test_safeguarding_visits_are_authorised_by_the_principal_or_slt_only() -> None:
    routine = kit.policies.ask("hexthorpe", "authoriser_roles", visit=kit.visit())
    safeguarding = kit.policies.ask("hexthorpe", "authoriser_roles", visit=kit.visit(safeguarding=True))
    assert "pflo" in routine
    assert set(safeguarding) == {"headteacher", "slt"}


def test_escalation_goes_admin_then_duty_slt_then_police() -> None:
    chain = kit.policies.ask("hexthorpe", "escalation_chain", visit=kit.visit())
    assert [s.who for s in chain] == [("admin",), ("slt",), ("slt",)]
    assert [s.emergency for s in chain] == [False, False, True] and "police" in chain[-1].action


def test_staff_sign_back_in_at_reception_and_are_overdue_at_the_agreed_time() -> None:
    plan = kit.policies.ask("hexthorpe", "checkin_plan", visit=kit.visit())
    assert plan.grace_minutes == 0
    assert "reception" in plan.steps[0].description and plan.steps[0].anchor == "expected-return"


def test_attendance_visits_are_filed_under_attendance_and_may_recur_tomorrow() -> None:
    visit = kit.visit()
    assert kit.policies.ask("hexthorpe", "cpoms_categories", visit=visit, kind="home-visit")[0] == "Attendance"
    meeting = kit.visit(reason="parent-cannot-come-in")
    assert kit.policies.ask("hexthorpe", "cpoms_categories", visit=meeting, kind="home-visit") == ["Home Visit"]
    follow = [f for answer in kit.policies.ask("hexthorpe", "follow_ups", visit=visit) for f in answer]
    assert any(f.who == ("pflo",) and f.due_days == 1 for f in follow)


def test_the_sample_visits_pass_and_fail_as_described() -> None:
    kit.assert_clean(load_visit(VISITS / "hexthorpe-ready.json"), allow=OVERDUE_POLICY)
    problems = load_visit(VISITS / "hexthorpe-lone-safeguarding.json")
    blocks = {f.rule_id for f in kit.findings(problems) if f.severity is Severity.BLOCK}
    assert {"hexthorpe.two-staff-always", "hexthorpe.slt-if-safeguarding", "hexthorpe.coordinated-by-pflo",
            "hexthorpe.sign-out-reception"} <= blocks


def test_hvc_policy_check_exits_1_on_the_problem_visit() -> None:
    result = policy_check(VISITS / "hexthorpe-lone-safeguarding.json", stage="authorise")
    assert result.returncode == 1
    assert "hexthorpe.two-staff-always" in result.stdout
