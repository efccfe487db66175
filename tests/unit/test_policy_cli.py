"""`hvc policy check` as a user meets it: clear messages and exit codes, never a traceback."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hv_connector import hookimpl
from hv_connector.cli import cli
from hv_connector.clock import LONDON
from hv_connector.models import EscalationStep, PolicyInfo, Reason, RuleInfo, Severity, Stage
from hv_connector.plugins import build_plugin_manager
from hv_connector.runtime import Runtime
from hv_connector.testing import base_visit
from hvc_potton import plugin as potton

REPO = Path(__file__).resolve().parents[2]


def hvc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hv_connector", *args], capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "must hold one JSON object"),
        (json.dumps({**base_visit("potton", reason="attendance"), "planned_start": "2026-11-23T10:00:00"}),
         "planned_start: Input should have timezone info"),
        (json.dumps({**base_visit("potton", reason="attendance"), "pupil": {"name": ""}}), "pupil.name"),
        (json.dumps({**base_visit("potton", reason="attendance"), "staff": [{"id": "x", "name": "X", "roles": ["wizard"]}]}),
         "unknown role(s) wizard"),
        (json.dumps({**base_visit("potton", reason="attendance"), "expected_return": "2026-11-23T09:00:00+00:00"}),
         "expected_return must be after planned_start"),
    ],
)
def test_a_malformed_visit_file_names_the_problem_and_exits_2(tmp_path, content, expected):
    path = tmp_path / "visit.json"
    path.write_text(content)
    result = hvc("policy", "check", str(path))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_file_is_a_clear_error(tmp_path):
    result = hvc("policy", "check", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "cannot read visit file" in result.stderr


def test_an_unknown_stage_is_refused_with_the_choices(tmp_path):
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(base_visit("potton", reason="attendance")))
    result = hvc("policy", "check", str(path), "--stage", "lunch")
    assert result.returncode == 2
    assert "sign-out" in result.stderr


def test_a_ready_visit_passes_the_stages_it_has_reached_but_not_the_report_it_lacks():
    ready = str(REPO / "fixtures" / "visits" / "potton-ready.json")
    before = hvc("policy", "check", ready, "--at", "2026-10-15T08:00")
    assert before.returncode == 0, before.stdout + before.stderr
    assert "0 block" in before.stdout
    everything = hvc("policy", "check", ready, "--at", "2026-10-15T08:00", "--all-stages", "--json")
    assert everything.returncode == 1
    assert "core.report-to-cpoms" in {f["rule_id"] for f in json.loads(everything.stdout)["findings"]}


def test_a_visit_with_blocks_exits_1_and_lists_them_with_clauses():
    result = hvc("policy", "check", str(REPO / "fixtures" / "visits" / "potton-lone-evening.json"),
                 "--at", "2026-11-23T08:00")
    assert result.returncode == 1
    assert "BLOCK  potton.code-word" in result.stdout
    assert "Potton" in result.stdout and "§4" in result.stdout


def test_the_visit_files_pupil_prints_on_the_tally_line(tmp_path):
    visit = json.loads((REPO / "fixtures" / "visits" / "potton-ready.json").read_text(encoding="utf-8"))
    visit["pupil"]["name"] = "Jo Bloggs\nFORGED: 0 block"
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(visit), encoding="utf-8")
    result = hvc("policy", "check", str(path), "--at", "2026-10-15T08:00")
    assert "Jo Bloggs\\x0aFORGED: 0 block" in result.stdout and "\nFORGED" not in result.stdout


def test_hvc_plugins_lists_every_plugin_when_the_configuration_names_only_some_schools(tmp_path, monkeypatch):
    config = tmp_path / "hvc.toml"
    config.write_text('[schools.potton]\nname = "Potton Primary School"\npolicy = "potton"\n')
    config.chmod(0o600)
    monkeypatch.setenv("HVC_CONFIG", str(config))
    result = hvc("plugins", "--json")
    assert result.returncode == 0, result.stderr
    schools = {row["name"]: row["school"] for row in json.loads(result.stdout)}
    assert schools["potton"] == "potton"
    assert schools["birchwood"] == "birchwood"  # installed, though this configuration does not use it
    assert schools["hv_connector.builtin.core_rules"] is None


class ChainWithoutEmergency:
    """A policy plugin whose escalation chain never calls for help: it breaks the contract."""

    @hookimpl
    def policy_info(self):
        return PolicyInfo(school_id="oak-hill", school_name="Oak Hill Primary", source_document="Home Visit Policy")

    @hookimpl
    def visit_reasons(self):
        return [Reason(code="attendance", label="Attendance concerns")]

    @hookimpl
    def policy_rules(self):
        return [RuleInfo(rule_id="oak-hill.two-staff", stage=Stage.AUTHORISE, severity=Severity.BLOCK,
                         summary="Two staff go.", clause="Oak Hill policy — Procedures")]

    @hookimpl
    def escalation_chain(self, visit):
        return [EscalationStep(who=("office",), action="Phone the staff.", wait_minutes=15)]


def test_hvc_plugins_runs_the_contract_check_on_every_policy_plugin_and_names_the_broken_one():
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(potton, name="potton")
    pm.register(ChainWithoutEmergency(), name="oak-hill")
    result = CliRunner().invoke(cli, ["plugins", "--json"], obj={"runtime": Runtime(pm=pm)})
    assert result.exit_code == 1
    contracts = {row["name"]: row["contract"] for row in json.loads(result.stdout)}
    assert contracts["potton"] == "ok"
    assert "exactly one step as the emergency step" in contracts["oak-hill"]
    assert contracts["hv_connector.builtin.core_rules"] is None
    assert "break the plugin contract: oak-hill" in result.stderr


class TwoLineWords(ChainWithoutEmergency):
    """A policy plugin whose school name and rule summary hold a line break."""

    @hookimpl
    def policy_info(self):
        return PolicyInfo(school_id="oak-hill", school_name="Oak Hill\nFORGED name", source_document="Policy\nFORGED doc")

    @hookimpl
    def policy_rules(self):
        return [RuleInfo(rule_id="oak-hill.two-staff", stage=Stage.AUTHORISE, severity=Severity.BLOCK,
                         summary="Two staff\nFORGED summary", clause="Oak Hill policy\nFORGED clause")]


def test_a_plugins_words_print_each_on_its_one_line():
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(TwoLineWords(), name="oak-hill")
    for argv in (["plugins"], ["policy", "show", "oak-hill"]):
        result = CliRunner().invoke(cli, argv, obj={"runtime": Runtime(pm=pm)})
        assert "\\x0aFORGED" in result.stdout, argv
        assert not any(line.startswith("FORGED") for line in result.stdout.splitlines()), (argv, result.stdout)


def test_hvc_policy_check_reads_the_schools_options_from_the_configuration(tmp_path, monkeypatch):
    late = tmp_path / "late.json"
    late.write_text(json.dumps(base_visit("birchwood", reason="attendance", purpose="Attendance plan.",
                                          start=datetime(2026, 11, 23, 16, 30, tzinfo=LONDON))))
    args = ("policy", "check", str(late), "--stage", "authorise", "--at", "2026-11-23T08:00", "--json")

    def ids(result: subprocess.CompletedProcess) -> set[str]:
        return {f["rule_id"] for f in json.loads(result.stdout)["findings"]}

    assert "birchwood.no-evening-visits" in ids(hvc(*args))  # the evening starts at 17:00 by default
    config = tmp_path / "hvc.toml"
    config.write_text('[schools.birchwood]\nname = "Birchwood"\npolicy = "birchwood"\n'
                      '[schools.birchwood.options]\nevening_from = "18:00"\n')
    config.chmod(0o600)
    monkeypatch.setenv("HVC_CONFIG", str(config))
    assert "birchwood.no-evening-visits" not in ids(hvc(*args))


def test_hvc_plugins_new_writes_a_plugin_whose_own_tests_pass(tmp_path):
    made = hvc("plugins", "new", "oak-hill", "--name", "Oak Hill Primary", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    plugin = tmp_path / "oak-hill"
    assert 'oak-hill = "hvc_oak_hill:plugin"' in (plugin / "pyproject.toml").read_text()
    assert not list(plugin.rglob("*.tmpl")) and "{{" not in (plugin / "src/hvc_oak_hill/__init__.py").read_text()
    # Its tests, before it is installed (the "is installed" test needs `pip install -e`, which the README shows).
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(plugin / "tests"),
                             "-k", "not installed"], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(plugin / "src")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_hvc_plugins_new_writes_a_plugin_in_the_shape_of_the_school_plugins(tmp_path):
    assert hvc("plugins", "new", "oak-hill", "--dir", str(tmp_path)).returncode == 0
    made = {p.name for p in (tmp_path / "oak-hill/src/hvc_oak_hill").glob("*.py")}
    for school in ("birchwood", "hexthorpe", "potton", "st-edwards", "washwood-heath"):
        module = REPO / "plugins" / school / "src" / ("hvc_" + school.replace("-", "_"))
        assert {p.name for p in module.glob("*.py")} == made == {"__init__.py", "policy.py", "rules.py"}
        init = (module / "__init__.py").read_text()
        # RuleBookPolicy answers policy_info, visit_reasons and the template from class attributes.
        assert "(RuleBookPolicy):" in init and "    policy = POLICY" in init and "def policy_info" not in init


def test_hvc_plugins_new_refuses_a_bad_school_id(tmp_path):
    result = hvc("plugins", "new", "Oak Hill", "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "lower-case letters, digits and hyphens" in result.stderr and not list(tmp_path.iterdir())
