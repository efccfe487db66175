"""A testing kit for policy plugins: build visits, assert findings, check the contract.

A school's plugin tests look like this::

    from hv_connector.testing import PolicyKit

    kit = PolicyKit(hvc_potton.plugin)           # this plugin and the core, nothing else

    def test_code_word_is_required():
        visit = kit.visit(reason="attendance")   # a visit the policy is happy with
        kit.assert_clean(visit)
        broken = kit.change(visit, {"risk_assessment.code_word": None})
        kit.assert_finding(broken, "potton.code-word")

    def test_contract():
        kit.check_contract()

Most rules are best checked as a table of cases, each a change that breaks
the rule and the nearest change that keeps it::

    CASES = [("potton.code-word", "block", {"risk_assessment.code_word": None},
              {"risk_assessment.code_word": "heron"}, None)]

    @pytest.mark.parametrize(("rule_id", "severity", "breaks", "keeps", "now"), CASES, ids=case_ids(CASES))
    def test_each_rule_fires_when_broken_and_not_on_the_nearest_good_visit(rule_id, severity, breaks, keeps, now):
        kit.assert_rule_case(rule_id, severity, breaks, keeps, now=now)

    def test_every_rule_has_a_case():
        assert kit.rules_without_cases(case[0] for case in CASES) == set()
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from os import PathLike
from typing import Any

from hv_connector.clock import LONDON
from hv_connector.errors import PluginContractError
from hv_connector.models import (
    ROLES,
    CheckInPlan,
    EscalationStep,
    Finding,
    FollowUp,
    PolicyInfo,
    Reason,
    RiskTemplate,
    RuleInfo,
    Severity,
    StaffMember,
    Stage,
    Visit,
)
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.visits.directory import Directory

DEFAULT_NOW = datetime(2026, 11, 23, 8, 0, tzinfo=LONDON)
"""A Monday morning in term: the kit's default "now" (before the default visit starts)."""

REPORT_KINDS = ("home-visit", "concern", "attendance", "cancelled")


def staff(id: str, name: str, *roles: str, mobile: str | None = "07700 900000", **extra: Any) -> dict[str, Any]:
    """A staff member as a dict (fictional mobile from Ofcom's drama range by default)."""
    person: dict[str, Any] = {"id": id, "name": name, "roles": list(roles), "mobile": mobile,
                              "dbs": "enhanced", "dbs_checked_on": "2024-09-01", "cp_trained_on": "2025-09-01",
                              "home_visit_trained": True}
    person.update(extra)
    return person


def staff_directory(people: Mapping[str, Iterable[Mapping[str, Any]]]) -> Directory:
    """The staff directory of each school's people, written as :func:`staff` writes them."""
    return Directory({school: {p["id"]: StaffMember.model_validate(p) for p in group}
                      for school, group in people.items()})


def base_visit(school: str, *, reason: str, start: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A plain, well-planned two-staff daytime visit for ``school`` as a dict; ``fields`` override."""
    start = start or datetime.combine(date(2026, 11, 23), time(10, 0), tzinfo=LONDON)
    visit: dict[str, Any] = {
        "school": school,
        "pupil": {"name": "Test Pupil", "mis_id": "A1000000001", "upn": "A123456789012", "attendance_3m": 92.0},
        "reason": reason,
        "purpose": "Talk with the family about attendance.",
        "address": "1 Example Road, Testtown, TT1 1AA",
        "planned_start": start.isoformat(),
        "expected_return": (start + timedelta(hours=1)).isoformat(),
        "staff": [staff("s1", "Alex Visitor", "pastoral"), staff("s2", "Sam Second", "dsl", mobile="07700 900001")],
        "parents_informed": True,
        "parent_agreement": True,
        "line_manager_informed": True,
        "logged_with_office": True,
        "phones_given_to_office": True,
        "background_shown_at": (start - timedelta(hours=2)).isoformat(),
        "risk_assessment": {"code_word": "bluebell", "hazards": [], "covers": []},
        "authorised_by": staff("a1", "Jo Authoriser", "headteacher", "dsl", "slt"),
    }
    visit.update(fields)
    return visit


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


class PolicyKit:
    """Evaluate visits against one policy plugin (plus the core), in isolation.

    :param plugin: the plugin object (module or instance) under test.
    :param now: the moment checks run at (default :data:`DEFAULT_NOW`).
    :param options: school options from configuration (e.g. ``{"evening_from": "18:00"}``).
    """

    def __init__(self, plugin: object, *, now: datetime = DEFAULT_NOW, options: Mapping[str, Any] | None = None,
                 base: Mapping[str, Any] | None = None) -> None:
        self.pm = build_plugin_manager(load_entrypoints=False)
        self.pm.register(plugin, name="plugin-under-test")
        self.pm.check_pending()
        self.policies = Policies(self.pm)
        infos = self.policies.infos()
        if len(infos) != 1:
            raise PluginContractError("a policy plugin must answer policy_info with exactly one PolicyInfo")
        self.info: PolicyInfo = infos[0]
        self.school = self.info.school_id
        self.now = now
        self.options = dict(options or {})
        self._base = dict(base or {})

    # --- building visits ---------------------------------------------------------------------

    def visit_data(self, **fields: Any) -> dict[str, Any]:
        """The plugin's baseline visit as a dict, with ``fields`` overriding."""
        reason = fields.pop("reason", None) or self._base.get("reason") or self.policies.reasons(self.school)[0].code
        data = base_visit(self.school, reason=reason)
        data.update(self._base)
        data["reason"] = reason
        data.update(fields)
        return data

    def visit(self, **fields: Any) -> Visit:
        """The plugin's baseline visit (which should raise no block or warn), with ``fields`` overriding."""
        return Visit.model_validate(self.visit_data(**fields))

    def change(self, visit: Visit, changes: Mapping[str, Any]) -> Visit:
        """A copy of ``visit`` with dotted-path ``changes`` applied, validated again."""
        data = visit.model_dump(mode="json", context={"reveal_secrets": True})
        for path, value in changes.items():
            _set_path(data, path, value)
        return Visit.model_validate(data)

    # --- evaluating ---------------------------------------------------------------------------

    def findings(self, visit: Visit, stage: Stage | str | None = None, now: datetime | None = None) -> list[Finding]:
        """Findings at ``stage`` (or at every stage)."""
        moment = now or self.now
        if stage is None:
            return self.policies.all_findings(visit, moment, self.options)
        return self.policies.findings(visit, Stage(stage), moment, self.options)

    def rule(self, rule_id: str) -> RuleInfo:
        for rule in self.policies.rules(self.school):
            if rule.rule_id == rule_id:
                return rule
        raise AssertionError(f"no rule {rule_id!r} is declared by {self.school!r} or the core")

    def assert_finding(self, visit: Visit, rule_id: str, *, severity: Severity | str | None = None,
                       now: datetime | None = None) -> Finding:
        """Assert the rule fires (at its own stage) and return the finding."""
        rule = self.rule(rule_id)
        found = [f for f in self.findings(visit, rule.stage, now) if f.rule_id == rule_id]
        assert found, f"expected {rule_id} at stage {rule.stage.value}; got {[f.rule_id for f in self.findings(visit, rule.stage, now)]}"
        if severity is not None:
            assert found[0].severity == Severity(severity), f"{rule_id}: expected {severity}, got {found[0].severity.value}"
        return found[0]

    def assert_no_finding(self, visit: Visit, rule_id: str, *, now: datetime | None = None) -> None:
        """Assert the rule does not fire at its own stage."""
        rule = self.rule(rule_id)
        found = [f for f in self.findings(visit, rule.stage, now) if f.rule_id == rule_id]
        assert not found, f"{rule_id} fired unexpectedly: {found[0].message}"

    def assert_clean(self, visit: Visit, *, stages: Iterable[Stage | str] | None = None,
                     now: datetime | None = None, allow: Iterable[str] = ()) -> None:
        """Assert no block or warn at ``stages`` (default: request, authorise, sign-out), except ``allow``ed ids."""
        wanted = [Stage(s) for s in (stages or (Stage.REQUEST, Stage.AUTHORISE, Stage.SIGN_OUT))]
        allowed = set(allow)
        bad = [f for s in wanted for f in self.findings(visit, s, now)
               if f.severity is not Severity.INFO and f.rule_id not in allowed]
        assert not bad, "unexpected findings: " + "; ".join(f"{f.rule_id}: {f.message}" for f in bad)

    # --- a plugin's table of rule cases ---------------------------------------------------------

    def assert_rule_case(self, rule_id: str, severity: Severity | str, breaks: Mapping[str, Any],
                         keeps: Mapping[str, Any], *, now: datetime | None = None) -> Finding:
        """Check one case of a rule: the baseline visit changed by ``breaks`` makes ``rule_id`` fire at
        ``severity``, and changed by ``keeps`` (the nearest good visit) it does not fire.

        Returns the finding, for the plugin's own checks (e.g. the clause it cites).
        """
        base = self.visit()
        finding = self.assert_finding(self.change(base, breaks), rule_id, severity=severity, now=now)
        self.assert_no_finding(self.change(base, keeps), rule_id, now=now)
        return finding

    def rule_ids(self) -> set[str]:
        """The ids of the school's own rules (not the core's)."""
        return {r.rule_id for r in self.policies.rules(self.school) if r.rule_id.startswith(self.school + ".")}

    def rules_without_cases(self, rule_ids: Iterable[str]) -> set[str]:
        """The school's own rule ids that are not among ``rule_ids`` (the ids a table of cases covers)."""
        return self.rule_ids() - set(rule_ids)

    # --- the contract -------------------------------------------------------------------------

    def check_contract(self) -> None:
        """Check every hook answers the right type, rule ids are unique and namespaced, every rule cites a clause."""
        check_contract(self.policies, self.school, self.visit())


def check_contract(policies: Policies, school: str, sample: Visit) -> None:
    """Raise :class:`PluginContractError` describing the first way ``school``'s plugin breaks the contract."""

    def fail(problem: str) -> None:
        raise PluginContractError(f"plugin for {school!r}: {problem}")

    reasons = policies.ask(school, "visit_reasons")
    if not reasons or not all(isinstance(r, Reason) for r in reasons):
        fail("visit_reasons must return a non-empty list of Reason")
    if len({r.code for r in reasons}) != len(reasons):
        fail("visit_reasons has duplicate codes")
    own_rules = [r for r in policies.rules(school) if not r.rule_id.startswith("core.")]
    if not own_rules:
        fail("policy_rules declares no rules of its own")
    ids = [r.rule_id for r in own_rules]
    if len(set(ids)) != len(ids):
        fail(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    for rule in own_rules:
        if not isinstance(rule, RuleInfo):
            fail("policy_rules must return RuleInfo objects")
        if not rule.rule_id.startswith(school + "."):
            fail(f"rule id {rule.rule_id!r} is not namespaced with {school + '.'!r}")
        if not rule.clause.strip():
            fail(f"rule {rule.rule_id!r} cites no clause")
    declared = {r.rule_id for r in policies.rules(school)}
    for stage in Stage:
        for finding in policies.findings(sample, stage, DEFAULT_NOW):
            if not isinstance(finding, Finding):
                fail("visit_findings must return Finding objects")
            if finding.rule_id not in declared:
                fail(f"finding {finding.rule_id!r} at {stage.value} is not a declared rule")
            if finding.stage is not stage:
                fail(f"finding {finding.rule_id!r} answered at {stage.value} but says stage {finding.stage.value}")
    roles = policies.ask(school, "authoriser_roles", visit=sample)
    if not roles or not set(roles) <= ROLES:
        fail(f"authoriser_roles must name known roles, got {roles!r}")
    if not isinstance(policies.ask(school, "risk_assessment_template", visit=sample), RiskTemplate):
        fail("risk_assessment_template must return a RiskTemplate")
    # Asked through hook(), not ask(): ask() stands the core's defaults in for a wrong answer to these two.
    if not isinstance(policies.hook(school, "checkin_plan")(visit=sample), CheckInPlan):
        fail("checkin_plan must return a CheckInPlan")
    chain = policies.hook(school, "escalation_chain")(visit=sample)
    if not chain or not all(isinstance(s, EscalationStep) for s in chain):
        fail("escalation_chain must return a non-empty list of EscalationStep")
    if sum(1 for s in chain if s.emergency) != 1:
        fail("escalation_chain must mark exactly one step as the emergency step")
    for kind in REPORT_KINDS:
        names = policies.ask(school, "cpoms_categories", visit=sample, kind=kind)
        if not names or not 1 <= len(names) <= 3 or not all(isinstance(n, str) and n for n in names):
            fail(f"cpoms_categories({kind!r}) must return one to three category names")
    for answer in policies.ask(school, "follow_ups", visit=sample):
        if not all(isinstance(f, FollowUp) for f in answer):
            fail("follow_ups must return FollowUp objects")
    codes = {r.code for r in reasons}
    for trigger in policies.triggers(school):  # a wrong type is refused by triggers() itself
        if not trigger.id.startswith(("core.", school + ".")):
            fail(f"attendance trigger id {trigger.id!r} is not namespaced with {school + '.'!r}")
        if trigger.reason is not None and trigger.reason not in codes:
            fail(f"attendance trigger {trigger.id!r} proposes reason {trigger.reason!r}, not one of visit_reasons")
        if not trigger.deciders or not set(trigger.deciders) <= ROLES:
            fail(f"attendance trigger {trigger.id!r} must name known roles to decide it, got {trigger.deciders!r}")


def installed_policies() -> Policies:
    """The policies of every installed plugin (what ``hvc`` itself loads)."""
    return Policies(build_plugin_manager())


def case_ids(cases: Iterable[Sequence[Any]]) -> list[str]:
    """Test ids for a table of rule cases: each case's rule id and its row number."""
    return [f"{case[0]}-{row}" for row, case in enumerate(cases)]


def policy_check(path: str | PathLike[str], *, stage: Stage | str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``hvc policy check`` on the visit file at ``path`` in a fresh process, as staff would
    (with every installed plugin), and return its exit code and output."""
    args = [sys.executable, "-m", "hv_connector", "policy", "check", str(path)]
    if stage is not None:
        args += ["--stage", Stage(stage).value]
    return subprocess.run(args, capture_output=True, text=True, check=False)
