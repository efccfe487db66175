"""A broken policy plugin breaks only its own school: named everywhere, never a traceback, its visits still watched.

Each case installs a small policy plugin for a school called Oakfield as a
real entry point (a ``.dist-info`` on ``sys.path``), next to the installed
Potton and Birchwood plugins, and runs ``hvc`` against a real configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "visits"))
sys.path.insert(0, str(Path(__file__).parent / "watch"))

import visitkit  # type: ignore[import-not-found]
import watchkit  # type: ignore[import-not-found]

from hv_connector.cli import main
from hv_connector.store import Store
from hv_connector.testing import base_visit
from tests.clockkit import CommandClock
from tests.configkit import school_table, staff_entry

GOOD_START = '''
from datetime import date
from hv_connector import hookimpl
from hv_connector.models import PolicyInfo, Reason

@hookimpl
def policy_info():
    return PolicyInfo(school_id="oakfield", school_name="Oakfield Primary", source_document="oakfield.pdf",
                      review_by=date(2030, 1, 1))
'''

BROKEN = {
    # One stray line at import time.
    "import-name-error": GOOD_START + "\nstray_line_left_in_by_mistake\n",
    "import-syntax-error": GOOD_START + "\ndef visit_reasons(:\n",
    # Loads, then raises when asked.
    "hook-raises": GOOD_START + '''
@hookimpl
def visit_reasons():
    raise RuntimeError("the reasons table is missing")

@hookimpl
def checkin_plan(visit):
    raise RuntimeError("the plan is missing")

@hookimpl
def escalation_chain(visit):
    raise RuntimeError("the chain is missing")
''',
    # Loads, then answers the wrong type (policy_info used to stop every school).
    "wrong-type": '''
from hv_connector import hookimpl

@hookimpl
def policy_info():
    return {"school_id": "oakfield"}

@hookimpl
def escalation_chain(visit):
    return "phone the office"
''',
}

EXPECTED_ERROR = {
    "import-name-error": "NameError: name 'stray_line_left_in_by_mistake' is not defined",
    "import-syntax-error": "SyntaxError",
    "hook-raises": "RuntimeError: the reasons table is missing",
    "wrong-type": "policy_info answered dict, not PolicyInfo",
}

OAKFIELD = "".join([
    school_table("oakfield", "Oakfield Primary", mis_school_id=None),
    staff_entry("oakfield", "oak-office", "Olu Office", "office", mobile="07700 900301"),
    staff_entry("oakfield", "oak-head", "Hana Head", "headteacher", "dsl", mobile="07700 900302"),
])


def install_plugin(site: Path, case: str) -> None:
    """Install ``BROKEN[case]`` as the ``oakfield`` entry point of a distribution ``hvc-oakfield`` in ``site``."""
    module = f"hvc_oakfield_{case.replace('-', '_')}"
    (site / f"{module}.py").write_text(textwrap.dedent(BROKEN[case]), encoding="utf-8")
    info = site / "hvc_oakfield-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hvc-oakfield\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[hv_connector]\noakfield = {module}\n", encoding="utf-8")


@pytest.fixture(params=sorted(BROKEN))
def case(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def site(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    install_plugin(path, case)
    monkeypatch.syspath_prepend(str(path))
    return path


@pytest.fixture
def config(tmp_path: Path, site: Path) -> Path:
    """Potton and Birchwood (working) and Oakfield (broken); a Potton and an Oakfield visit are out."""
    url = f"sqlite:///{tmp_path / 'hvc.db'}"
    with Store.open(url, upgrade=True) as store:
        visitkit.seed_pupils(store)
        watchkit.add_visits(store, [watchkit.visit_document("V1"), watchkit.visit_document("O1", school="oakfield")])
    path = visitkit.write_config(tmp_path / "hvc.toml", url)
    path.write_text(path.read_text(encoding="utf-8") + OAKFIELD, encoding="utf-8")
    return path


@pytest.fixture
def hvc(config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``hvc --config hvc.toml ARGS`` in this process; (exit code, stdout, stderr).

    The first command starts at 08:00 on 23 Nov, each next one after it (:class:`~tests.clockkit.CommandClock`).
    """
    clock = CommandClock(monkeypatch, visitkit.NOW)

    def run(*args: str) -> tuple[int, str, str]:
        with clock.command():
            code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_hvc_plugins_names_the_broken_plugin_its_school_and_error(hvc, case: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc("plugins")
    assert code == 1, err  # a plugin that cannot be used is a failure a script must see
    assert "policy plugin 'oakfield' (school(s) oakfield) is broken:" in out and EXPECTED_ERROR[case] in out
    assert "potton  hvc-potton" in out  # the others are listed as before
    assert "Traceback" not in out + err
    code, out, _ = hvc("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert EXPECTED_ERROR[case] in rows["oakfield"]["error"] and rows["potton"]["error"] is None


def test_config_check_exits_2_naming_the_broken_plugin(hvc, case: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("config", "check")
    assert code == 2
    assert "plugins.oakfield: policy plugin 'oakfield' (school(s) oakfield) is broken" in out
    assert EXPECTED_ERROR[case] in out
    assert "potton" not in out.split("Schools:", 1)[1].split("\n", 1)[1]  # no problem for the working schools


def test_status_exits_1_naming_the_broken_plugin(hvc, case: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc("watch", "--now", watchkit.START.isoformat())
    assert code == 1 and "(oakfield) is watched with the core's default chain" in err, out + err
    code, out, _ = hvc("status")
    assert code == 1
    assert "POLICY PLUGIN BROKEN: 'oakfield' (school(s) oakfield)" in out and EXPECTED_ERROR[case] in out


def test_the_other_schools_work_as_before(hvc, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    visit = tmp_path / "potton-visit.json"
    visit.write_text(json.dumps(base_visit("potton", reason="attendance")), encoding="utf-8")
    code, out, err = hvc("policy", "check", str(visit))
    assert code in (0, 1) and "potton." in out, err
    request = tmp_path / "request.json"
    request.write_text(json.dumps(visitkit.potton_request()), encoding="utf-8")
    code, out, err = hvc("visit", "request", "--file", str(request), "--as", "pt-v1", "--json")
    assert code == 0, err
    assert json.loads(out)["visit"]["state"] == "requested"


def test_the_broken_schools_own_visits_are_refused_with_the_plugins_error(hvc, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                          case: str) -> None:
    visit = tmp_path / "oakfield-visit.json"
    visit.write_text(json.dumps(base_visit("oakfield", reason="attendance")), encoding="utf-8")
    code, _, err = hvc("policy", "check", str(visit))
    assert code == 2
    assert "'oakfield'" in err and EXPECTED_ERROR[case] in err and "Traceback" not in err


def test_the_watch_still_runs_and_raises_the_alarm_for_the_broken_schools_visit(hvc, case: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc("watch", "--now", (watchkit.START + timedelta(minutes=20)).isoformat(), "--json")
    assert code == 1, err  # the tick ran, and says that one school is watched on the core's chain
    assert any("(oakfield) is watched with the core's default chain" in f for f in json.loads(out)["failures"])
    fired = {(e["visit_id"], e["kind"], e["step_index"]) for e in json.loads(out)["fired"]}
    assert ("V1", "checkin-missed", 0) in fired  # Potton's own plan, as before
    assert ("O1", "checkin-missed", 0) in fired  # Oakfield: the core's chain, step 1 to the office
    code, out, _ = hvc("escalation", "list", "--json")
    alarm = next(e for e in json.loads(out) if e["visit_id"] == "O1")
    assert alarm["who"] == ["office"]
    assert "oakfield's home-visit policy could not be read" in alarm["message"]
    assert "this is the core's default chain" in alarm["message"]


def test_a_real_hvc_process_prints_no_traceback(config: Path, site: Path, case: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    for args, expected in ((["plugins"], 1), (["watch", "--once"], 1), (["config", "check"], 2)):
        result = subprocess.run([sys.executable, "-m", "hv_connector", "--config", str(config), *args],
                                capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == expected, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert len((result.stdout + result.stderr).splitlines()) < 40
