"""``hvc`` starts fast: a command's module loads only when that command runs, and ``--help`` still lists them all."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hv_connector.cli import COMMANDS, main, startup
from hv_connector.cli.lazy import load

HEAVY = ("httpx", "textual", "alembic", "tenacity", "hvc_tui", "pydantic_settings", "hv_connector.runtime")
"""What a fast ``hvc --version`` must not import (besides the command modules)."""

STATUS_HEAVY = ("httpx", "textual", "alembic", "tenacity", "smtplib", "hvc_tui", "hv_connector.clients.cpoms",
                "hv_connector.clients.wonde.client", "hv_connector.outbox.queue", "hv_connector.outbox.report",
                "hv_connector.watch.schedule", "pydantic_settings", "platformdirs", "difflib")
"""What ``hvc status``, run by cron every few minutes, must not import: no HTTP client, dashboard, migrations or
e-mail, none of the outbox or watch machinery it only reads the tables of, no settings library (the settings load
with our own reader), and nothing that only finds default paths (the config names the file and the store) or
suggests a spelling for a wrong value."""

_LOADED = """
import json, sys
from hv_connector.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    """Run ``hvc argv`` in a fresh interpreter: its exit code and every module it imported."""
    done = subprocess.run([sys.executable, "-c", _LOADED, *argv], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


def test_version_imports_no_command_module_nor_heavy_library() -> None:
    code, modules = loaded_by("--version")
    assert code == 0
    command_modules = {entry.target.partition(":")[0] for entry in COMMANDS.values()}
    assert not modules & command_modules
    assert not [name for name in HEAVY if name in modules]


def test_help_lists_every_command_without_importing_one() -> None:
    code, modules = loaded_by("--help")
    assert code == 0
    assert not modules & {entry.target.partition(":")[0] for entry in COMMANDS.values()}


def test_help_lists_every_command_with_its_short_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out.split("Commands:")[1]
    for name, entry in COMMANDS.items():
        words = entry.short_help.split()[:3]
        assert any(line.split()[:4] == [name, *words] for line in listed.splitlines()), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_names_each_command_and_its_own_short_help(name: str) -> None:
    command = load(COMMANDS[name].target)
    assert command.name == name
    assert command.get_short_help_str(limit=500) == COMMANDS[name].short_help


def test_a_command_runs_once_its_module_loads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "--help"]) == 0
    assert "check a visit against them" in capsys.readouterr().out


def test_status_loads_every_policy_plugin_but_no_client_dashboard_or_migrations(tmp_path: Path) -> None:
    config = tmp_path / "hvc.toml"
    store = tmp_path / "hvc.db"
    config.write_text(f'[database]\nurl = "sqlite:///{store}"\n', encoding="utf-8")
    config.chmod(0o600)
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    code, modules = loaded_by("--config", str(config), "status")
    assert code == 1  # the watch never ran
    assert {"hvc_potton", "hvc_st_edwards"} <= modules  # broken plugins are reported, so every plugin loads
    assert not [name for name in STATUS_HEAVY if name in modules]


def test_the_console_scripts_collector_runs_again_once_its_command_loads() -> None:
    # A long-running `hvc watch` or dashboard must collect its garbage: the start-up's pause ends with the load.
    startup.hold_collector()
    try:
        assert not gc.isenabled()
        assert main(["plugins", "--help"]) == 0
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_missing_choice_names_the_choices_on_one_readable_line(capsys: pytest.CaptureFixture[str]) -> None:
    # click lists them after tabs, which the output guard would show as \x09: the project's Choice says them plainly.
    assert main(["outbox", "checked", "7", "--as", "someone"]) == 2
    err = capsys.readouterr().err
    assert "Missing option '--found'. Choose one of: one, two" in err and "\\x09" not in err
