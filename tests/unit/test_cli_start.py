"""``hvc`` starts fast: a command's module loads only when that command runs, and ``--help`` still lists them all."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hv_connector.cli import COMMANDS, main
from hv_connector.cli.lazy import load

HEAVY = ("httpx", "textual", "alembic", "tenacity", "hvc_tui", "pydantic_settings", "hv_connector.runtime")
"""What a fast ``hvc --version`` must not import (besides the command modules)."""

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
