"""Configuration cannot silently disarm a rule: ``hvc config check`` and ``hvc watch`` refuse, naming the fix.

Each case writes a real ``hvc.toml`` where an IT person would keep it and runs the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hv_connector.cli import main

DIRECTORY = """
[[staff.potton]]
id = "pt-head"
name = "Alex Example"
roles = ["headteacher"]
mobile = "07700 900101"

[[staff.potton]]
id = "pt-office"
name = "Sam Example"
roles = ["{office_role}"]
"""


def config_text(*, options: str = "", office_role: str = "office") -> str:
    return f"""
[schools.potton]
name = "Potton Lower School"
policy = "potton"

[schools.potton.options]
{options}
{DIRECTORY.format(office_role=office_role)}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the settings live on a server; read through HVC_CONFIG, as the systemd unit does."""
    path = tmp_path / "etc" / "hv-connector" / "hvc.toml"
    path.parent.mkdir(parents=True)
    monkeypatch.setenv("HVC_CONFIG", str(path))
    monkeypatch.setenv("HVC_DATABASE__URL", f"sqlite:///{tmp_path / 'hvc.db'}")
    return path


def hvc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def refused_everywhere(capsys: pytest.CaptureFixture[str], *expected: str) -> None:
    """``hvc config check``, ``hvc watch --once`` and the daemon all exit 2 with every ``expected`` text."""
    for argv in (["config", "check"], ["watch", "--once"], ["watch"]):
        code, said = hvc(capsys, *argv)
        assert code == 2, (argv, said)
        for text in expected:
            assert text in said, (argv, said)


def test_a_complete_configuration_passes_and_the_watch_runs(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config_text(options='school_day = ["08:30", "15:30"]'), encoding="utf-8")
    code, said = hvc(capsys, "config", "check")
    assert code == 0, said
    code, said = hvc(capsys, "watch", "--once")
    assert code == 0 and "checked 0" in said, said


def test_a_misspelt_role_is_refused_with_the_role_meant(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config_text(office_role="ofice"), encoding="utf-8")
    refused_everywhere(capsys, "staff.potton[2].roles", "ofice (did you mean office?)",
                       "in entry 2 of [[staff.potton]]")


def test_an_option_value_the_policy_cannot_read_names_the_option_and_the_file(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config_text(options='school_day = ["08:45", "3pm"]'), encoding="utf-8")
    refused_everywhere(capsys, "schools.potton.options: potton's policy option school_day is '3pm': give a time of day",
                       f"under [schools.potton.options] in {config}")


def test_an_option_no_rule_reads_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config_text(options='visits_end_by = "4pm"'), encoding="utf-8")
    refused_everywhere(capsys, "potton's policy reads no option 'visits_end_by' (it reads: school_day)",
                       f"in {config}")


def test_an_escalation_step_nobody_in_the_directory_takes_is_refused(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Potton's chain starts with the office; this directory has a headteacher and a teacher, no office.
    config.write_text(config_text(office_role="teacher"), encoding="utf-8")
    refused_everywhere(capsys, "step 1 of potton's escalation chain", "nobody in [[staff.potton]] holds that role",
                       f"give the person who takes this step the role 'office' in {config}")
    code, said = hvc(capsys, "watch", "--drill", "potton")
    assert code == 0 and "nobody named in the directory" in said  # the drill still shows what would happen


def test_the_watch_does_not_start_on_a_school_whose_option_is_wrong_even_with_json(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config_text(options='school_day = "all day"'), encoding="utf-8")
    code, said = hvc(capsys, "watch", "--once", "--json")
    assert code == 2 and "hvc watch will not start" in said and "school_day" in said
