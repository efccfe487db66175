"""A school's questions go to its own policy plugin and the core, never to another school's."""

from datetime import date

import pytest

from hv_connector import hookimpl
from hv_connector.errors import PluginContractError, PolicyNotFound, PolicyUnavailable
from hv_connector.models import Finding, PolicyInfo, Reason, Severity, Stage, Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.testing import DEFAULT_NOW, base_visit


class SpyPolicy:
    """A real (tiny) policy plugin that records which visits it was asked about."""

    def __init__(self, school: str) -> None:
        self.school = school
        self.asked: list[str] = []

    @hookimpl
    def policy_info(self):
        return PolicyInfo(school_id=self.school, school_name=self.school.title(), source_document="spy.txt",
                          review_by=date(2030, 1, 31))

    @hookimpl
    def visit_reasons(self):
        return [Reason(code="attendance", label="Attendance")]

    @hookimpl
    def visit_findings(self, visit, stage, ctx):
        self.asked.append(visit.school)
        return []

    @hookimpl
    def authoriser_roles(self, visit):
        return ["headteacher"] if self.school == "spy-a" else ["dsl"]


@pytest.fixture
def two_schools():
    pm = build_plugin_manager(load_entrypoints=False)
    a, b = SpyPolicy("spy-a"), SpyPolicy("spy-b")
    pm.register(a, name="spy-a")
    pm.register(b, name="spy-b")
    return pm, a, b


def test_each_school_is_asked_only_of_its_own_plugin(two_schools):
    pm, a, b = two_schools
    policies = Policies(pm)
    visit = Visit.model_validate(base_visit("spy-a", reason="attendance"))
    findings = policies.all_findings(visit, DEFAULT_NOW)
    assert a.asked == ["spy-a"] * len(Stage)
    assert b.asked == []
    assert {f.rule_id.split(".")[0] for f in findings} <= {"core"}
    assert policies.ask("spy-a", "authoriser_roles", visit=visit) == ["headteacher"]
    assert policies.ask("spy-b", "authoriser_roles", visit=visit) == ["dsl"]


def test_the_core_answers_when_the_school_does_not(two_schools):
    pm, _, _ = two_schools
    chain = Policies(pm).ask("spy-a", "escalation_chain", visit=None)
    assert sum(step.emergency for step in chain) == 1


def test_a_configured_plugin_that_is_not_installed_is_a_clear_error(two_schools):
    pm, _, _ = two_schools
    policies = Policies(pm, configured={"oak-hill": "oak-hill"})
    with pytest.raises(PolicyNotFound) as err:
        policies.info("oak-hill")
    message = str(err.value)
    assert "'oak-hill'" in message and "not installed" in message and "pip install hvc-oak-hill" in message
    assert "spy-a" in message  # names what is installed


def test_an_unknown_school_names_the_schools_served(two_schools):
    pm, _, _ = two_schools
    with pytest.raises(PolicyNotFound, match="spy-a, spy-b"):
        Policies(pm).info("nowhere")


def test_a_school_never_falls_back_to_the_core_rules_alone(two_schools):
    pm, _, _ = two_schools
    visit = Visit.model_validate(base_visit("nowhere", reason="attendance"))
    with pytest.raises(PolicyNotFound):
        Policies(pm).findings(visit, Stage.REQUEST, DEFAULT_NOW)


def test_two_plugins_claiming_one_school_are_refused():
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(SpyPolicy("spy-a"), name="first")
    pm.register(SpyPolicy("spy-a"), name="second")
    with pytest.raises(PluginContractError, match="both claim school 'spy-a'"):
        Policies(pm).schools()


class RaisingPolicy(SpyPolicy):
    """A policy plugin whose watch questions raise, as a bug at call time would."""

    @hookimpl
    def checkin_plan(self, visit):
        raise RuntimeError("plan table missing")

    @hookimpl
    def escalation_chain(self, visit):
        return "phone the office"  # the wrong type


def test_a_plugin_failing_the_watch_questions_gets_the_core_defaults_with_an_alarm():
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(RaisingPolicy("spy-a"), name="spy-a")
    pm.register(SpyPolicy("spy-b"), name="spy-b")
    policies = Policies(pm, configured={"spy-a": "spy-a", "spy-b": "spy-b"})
    visit = Visit.model_validate(base_visit("spy-a", reason="attendance"))
    plan = policies.ask("spy-a", "checkin_plan", visit=visit)
    assert plan.steps[0].who == ("office",) and plan.steps[0].anchor == "sign-out"
    assert "spy-a's home-visit policy could not be read (RuntimeError: plan table missing" in plan.steps[0].description
    chain = policies.ask("spy-a", "escalation_chain", visit=visit)
    assert [step.who for step in chain] == [("office",), ("dsl", "headteacher"), ("dsl", "headteacher")]
    assert "spy-a's policy could not be read" in chain[0].action
    assert [(b.name, b.schools) for b in policies.broken()] == [("spy-a", ("spy-a",))]
    assert "plan table missing" in policies.broken()[0].error
    # The other school answers as before: the core's chain, no alarm.
    assert "could not be read" not in policies.ask("spy-b", "escalation_chain", visit=visit)[0].action


def test_a_plugin_whose_policy_info_raises_is_set_aside_and_the_others_answer():
    class NoInfo(SpyPolicy):
        @hookimpl
        def policy_info(self):
            raise ValueError("bad date in the policy header")

    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(NoInfo("spy-a"), name="spy-a")
    b = SpyPolicy("spy-b")
    pm.register(b, name="spy-b")
    policies = Policies(pm, configured={"spy-a": "spy-a", "spy-b": "spy-b"})
    with pytest.raises(PolicyUnavailable, match="'spy-a', which is broken: ValueError: bad date in the policy header"):
        policies.info("spy-a")
    visit = Visit.model_validate(base_visit("spy-b", reason="attendance"))
    assert policies.findings(visit, Stage.REQUEST, DEFAULT_NOW) is not None and b.asked == ["spy-b"]
    assert [str(x) for x in policies.broken()] == [
        "policy plugin 'spy-a' (school(s) spy-a) is broken: ValueError: bad date in the policy header "
        f"({__file__}, line {NoInfo.policy_info.__code__.co_firstlineno + 2})"]


def note(stage, text):
    return Finding(rule_id="extra.note", stage=stage, severity=Severity.INFO, message=text, clause="Extra §1")


class Noter:
    """A non-policy plugin that adds a note to every school's findings at every stage."""

    @hookimpl
    def visit_findings(self, visit, stage):  # takes fewer arguments than the hookspec offers, as pluggy allows
        return [note(stage, f"noted {visit.school}")]


class Wrapper:
    """A non-policy plugin that wraps every school's visit_findings and adds to its answers."""

    @hookimpl(wrapper=True)
    def visit_findings(self, visit, stage, ctx):
        answers = yield
        return [*answers, [note(stage, "wrapped")]]


def test_a_plugin_registered_after_the_first_visit_is_asked_about_the_next_and_not_after_it_goes(two_schools):
    pm, a, _ = two_schools
    policies = Policies(pm)
    visit = Visit.model_validate(base_visit("spy-a", reason="attendance"))
    before = policies.all_findings(visit, DEFAULT_NOW)
    noter = Noter()
    pm.register(noter, name="noter")
    try:
        added = [f for f in policies.all_findings(visit, DEFAULT_NOW) if f.rule_id == "extra.note"]
        assert [(f.stage, f.message) for f in added] == [(stage, "noted spy-a") for stage in Stage]
        assert [f for f in policies.findings(visit, Stage.AFTER, DEFAULT_NOW) if f.rule_id == "extra.note"] == added[-1:]
    finally:
        pm.unregister(noter)
    assert policies.all_findings(visit, DEFAULT_NOW) == before
    assert a.asked == ["spy-a"] * (3 * len(Stage) + 1)


def test_a_wrapper_around_visit_findings_still_wraps_every_stage(two_schools):
    pm, a, _ = two_schools
    wrapper = Wrapper()
    pm.register(wrapper, name="wrapper")
    try:
        policies = Policies(pm)
        visit = Visit.model_validate(base_visit("spy-a", reason="attendance"))
        wrapped = [f.stage for f in policies.all_findings(visit, DEFAULT_NOW) if f.message == "wrapped"]
        assert wrapped == list(Stage)
        assert a.asked == ["spy-a"] * len(Stage)
    finally:
        pm.unregister(wrapper)
