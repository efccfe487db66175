"""The plugin contract documents itself: every hook says what it answers and each parameter."""

import inspect

import pytest

from hv_connector import hookspecs
from hv_connector.plugins import build_plugin_manager

HOOKS = sorted(
    name for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "hv_connector_spec")
)


def test_every_question_in_the_architecture_has_a_hook():
    assert set(HOOKS) >= {
        "policy_info", "visit_reasons", "visit_findings", "authoriser_roles", "risk_assessment_template",
        "checkin_plan", "escalation_chain", "cpoms_categories", "follow_ups", "mis_adapters", "report_sinks",
        "notifiers",
    }


@pytest.mark.parametrize("name", HOOKS)
def test_hook_docstring_covers_when_who_and_every_parameter(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Called" in doc, f"{name}: say when the core calls it"
    assert "asked" in doc.lower(), f"{name}: say which plugins are asked"
    assert any(w in doc for w in ("answer wins", "concatenated", "merged", "kept apart")), \
        f"{name}: say how the answers combine"
    assert ":returns:" in doc, f"{name}: say what it returns"
    for param in inspect.signature(getattr(hookspecs, name)).parameters:
        assert f":param {param}:" in doc, f"{name}: document parameter {param!r}"


def test_the_loaded_manager_has_no_unknown_hooks():
    pm = build_plugin_manager()
    pm.check_pending()  # raises if any plugin implements a hook that has no spec
    assert {h for h in vars(pm.hook) if not h.startswith("_")} >= set(HOOKS)
