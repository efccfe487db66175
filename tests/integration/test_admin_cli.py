"""``hvc config``, ``hvc db`` and ``hvc audit`` as a user runs them, and no secret in anything they print or log."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from hv_connector.cli import main
from hv_connector.store import Store, audit
from hv_connector.store.migrate import head_revision
from hv_connector.store.schema import audit as audit_table
from tests.configkit import POTTON_HEAD, email_notifier, school_table, staff_entry, write_config

WONDE_TOKEN = "test-token-wonde-5c1d"
CPOMS_TOKEN = "test-token-cpoms-a8e2"
SMTP_PASSWORD = "test-smtp-password-33"
SECRETS = (WONDE_TOKEN, CPOMS_TOKEN, SMTP_PASSWORD)

CONFIG = "\n".join([f'[wonde]\ntoken = "{WONDE_TOKEN}"\n', school_table(cpoms_token=CPOMS_TOKEN), POTTON_HEAD,
                    staff_entry("potton", "pt-office", "Sam Example", "office"),  # someone takes the office's step
                    email_notifier(SMTP_PASSWORD)])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "hvc.toml", CONFIG)


def hvc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert not [secret for secret in SECRETS if secret in text]


def test_config_check_passes_a_complete_configuration(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = hvc(capsys, "--config", str(config), "config", "check")
    assert code == 0, err
    assert f"Settings: {config} (from --config)" in out
    assert "OK: the settings are complete and every policy plugin is installed" in out
    assert_no_secret(out, err)


def test_config_check_names_each_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path / "hvc.toml", CONFIG.replace(f'token = "{WONDE_TOKEN}"', ""),
                        school_table("oak-hill", "Oak Hill Primary", mis_school_id=None), """
[[staff.oak-hill]]
id = "oh-1"
name = "Sam Example"
""")
    path.chmod(0o644)
    code, out, err = hvc(capsys, "--config", str(path), "config", "check", "--json")
    assert code == 2
    found = {p["setting"]: p["message"] for p in json.loads(out)["problems"]}
    assert found["wonde.token"].startswith("HVC_WONDE__TOKEN is not set: export it or add `token` under [wonde] in hvc.toml")
    assert "policy plugin 'oak-hill', which is not installed" in found["schools.oak-hill.policy"]
    assert "pip install" in found["schools.oak-hill.policy"]
    assert found["config file"].endswith(f"run `chmod 600 {path}`")
    assert_no_secret(out, err)


def test_malformed_settings_exit_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hvc.toml"
    path.write_text(f'[wonde]\ntoken = "{WONDE_TOKEN}"\nconcurrency = "lots"\n', encoding="utf-8")
    code, out, err = hvc(capsys, "--config", str(path), "config", "check")
    assert code == 2
    assert err.startswith("hvc: invalid settings:")
    assert "wonde.concurrency input should be a valid integer" in err
    assert "HVC_WONDE__CONCURRENCY" in err and "Traceback" not in err
    assert_no_secret(out, err)


def test_config_show_redacts_every_secret(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = hvc(capsys, "--config", str(config), "config", "show")
    assert code == 0
    assert "wonde.token = **********" in out
    assert "schools.potton.sink.token = **********" in out
    assert "watch.notifiers.email.password = **********" in out
    assert "staff.potton[1].home_visit_trained = no" in out and "True" not in out and "False" not in out
    code, as_json, err2 = hvc(capsys, "--config", str(config), "config", "show", "--json")
    shown = json.loads(as_json)
    assert shown["schools"]["potton"]["sink"]["token"] == "**********"
    assert_no_secret(out, err, as_json, err2)


def test_hvc_config_variable_names_the_file(config: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_CONFIG", str(config))
    code, out, _ = hvc(capsys, "config", "show")
    assert code == 0 and "schools.potton.name = Potton Lower School" in out


def test_a_path_with_a_line_break_prints_on_its_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "trust\nhvc: done"
    folder.mkdir()
    config = write_config(folder / "hvc.toml", CONFIG)
    monkeypatch.setenv("HVC_DATABASE__URL", f"sqlite:///{folder / 'hvc.db'}")
    outputs = [hvc(capsys, "--config", str(config), *argv)[1]
               for argv in (["config", "check"], ["config", "show"], ["db", "upgrade"], ["db", "backup"])]
    for out in outputs:
        assert "\nhvc: done" not in out, out
    assert all("trust\\x0ahvc: done" in out for out in (outputs[0], outputs[1], outputs[3]))


def test_no_secret_reaches_the_logs(config: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HVC_DATABASE__URL", f"sqlite:///{tmp_path / 'hvc.db'}")
    caplog.set_level(logging.DEBUG)
    for argv in (["config", "check"], ["config", "show"], ["db", "upgrade"], ["audit", "verify"]):
        code, out, err = hvc(capsys, "--config", str(config), *argv)
        assert code == 0, err
        assert_no_secret(out, err)
    assert caplog.records, "the commands log nothing, so this test would prove nothing"
    assert_no_secret(caplog.text)


def test_a_failing_command_shows_no_secret_and_no_traceback(config: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database " * 100)
    env = {**os.environ, "HVC_DATABASE__URL": f"sqlite:///{broken}", "HVC_WONDE__TOKEN": WONDE_TOKEN}
    done = subprocess.run([sys.executable, "-m", "hv_connector", "--config", str(config), "audit", "verify"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2
    assert "hvc: cannot open the store" in done.stderr and "HVC_DATABASE__URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert_no_secret(done.stdout, done.stderr)


def test_a_database_password_is_never_shown(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_DATABASE__URL", "postgresql+psycopg://hvc:test-db-password-19@127.0.0.1:9/hvc")
    code, out, err = hvc(capsys, "--config", str(config), "db", "upgrade")
    assert code == 2 and "cannot open the store at postgresql+psycopg://hvc:***@127.0.0.1:9/hvc" in err
    code, shown, err2 = hvc(capsys, "--config", str(config), "config", "show")
    assert "database.url = postgresql+psycopg://hvc:**********@127.0.0.1:9/hvc" in shown
    assert "test-db-password-19" not in out + err + shown + err2


def test_db_upgrade_creates_the_store_and_says_when_it_is_current(database_url: str, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_DATABASE__URL", database_url)
    code, out, _ = hvc(capsys, "db", "status")
    assert code == 1 and "Run `hvc db upgrade`." in out
    code, out, _ = hvc(capsys, "db", "upgrade")
    assert code == 0 and f"from revision none to {head_revision()}" in out
    code, out, _ = hvc(capsys, "db", "upgrade", "--json")
    assert code == 0 and json.loads(out)["from"] == json.loads(out)["to"] == head_revision()
    assert hvc(capsys, "db", "status")[0] == 0
    if database_url.startswith("sqlite"):
        assert stat.S_IMODE(os.stat(database_url.removeprefix("sqlite:///")).st_mode) == 0o600


def test_db_upgrade_sql_prints_the_migration_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_DATABASE__URL", "postgresql+psycopg://hvc@127.0.0.1:9/hvc")  # nothing listens there
    code, out, err = hvc(capsys, "db", "upgrade", "--sql")
    assert code == 0, err
    assert out.startswith("BEGIN;") and "CREATE TABLE audit (" in out
    assert f"UPDATE alembic_version SET version_num='{head_revision()}'" in out
    code, out, err = hvc(capsys, "db", "upgrade", "--sql", "--from", head_revision())
    assert code == 0 and "CREATE TABLE" not in out


@pytest.fixture
def audited(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("HVC_DATABASE__URL", store.engine.url.render_as_string(hide_password=False))
    at = datetime(2026, 11, 23, 9, 15, tzinfo=timezone.utc)
    with store.begin() as conn:
        audit.append(conn, actor="pt-office", action="visit.request", school_id="potton", visit_id="v-1",
                     state="requested", at=at, detail={
                         "reason": "attendance", "from": None, "staff": ["pt-office", "pt-head"],
                         "planned_start": "2026-11-23T10:00:00+00:00", "expected_return": "2026-11-23T11:00:00+00:00"})
        audit.append(conn, actor="pt-head", action="visit.authorise", school_id="potton", visit_id="v-1",
                     state="authorised", detail={"from": "requested", "acknowledged": ["core.policy-review-overdue"]},
                     at=at)
        audit.append(conn, actor="pt-office", action="visit.request", school_id="potton", visit_id="v-2",
                     state="requested", detail={}, at=at)
        audit.append(conn, actor="pt-head", action="visit.report", school_id="potton", visit_id="v-1",
                     state="reported", detail={"from": "authorised", "child_seen": True, "cp_concern": False}, at=at)
    return store


def test_audit_verify_passes_an_intact_log_and_names_a_broken_entry(audited: Store,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hvc(capsys, "audit", "verify")
    assert code == 0 and "The audit log is intact: 4 entries" in out
    with audited.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 2).values(actor="pt-office"))
    code, out, _ = hvc(capsys, "audit", "verify")
    assert code == 1
    assert "The audit log is broken at entry 2: its contents do not match its hash (the row was edited)." in out
    code, out, _ = hvc(capsys, "audit", "verify", "--json")
    assert code == 1 and json.loads(out)["first_broken"]["seq"] == 2


def test_audit_show_tells_one_visits_history_in_sentences_naming_people_in_london_time(
        audited: Store, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_CONFIG", str(config))  # the staff directory: pt-office is Sam, pt-head is Alex
    code, out, _ = hvc(capsys, "audit", "show", "v-1")
    assert code == 0
    assert out.splitlines() == [
        "Mon 23 Nov 2026 09:15  Sam Example asked for a visit to the pupil (attendance), "
        "Mon 23 Nov 2026 10:00–11:00 with Sam Example and Alex Example. Now requested.  (#1)",
        "Mon 23 Nov 2026 09:15  Alex Example authorised the visit, acknowledging core.policy-review-overdue. "
        "Now authorised.  (#2)",
        "Mon 23 Nov 2026 09:15  Alex Example wrote the visit's report: child seen: yes; "
        "child protection concern: no. Now reported.  (#4)",
    ]
    assert "True" not in out and "False" not in out and "{" not in out
    code, out, _ = hvc(capsys, "audit", "show", "v-1", "--json")
    assert [e["action"] for e in json.loads(out)] == ["visit.request", "visit.authorise", "visit.report"]
    code, _, err = hvc(capsys, "audit", "show", "v-404")
    assert code == 2 and "no audit entries for visit 'v-404'" in err
