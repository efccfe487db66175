"""A school's questions go to its own policy plugin and the core, never to another school's."""

from datetime import date

import pytest

from hv_connector import hookimpl
from hv_connector.errors import PluginContractError, PolicyNotFound
from hv_connector.models import PolicyInfo, Reason, Stage, Visit
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
