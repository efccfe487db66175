"""``hvc watch``, ``hvc escalation`` and ``hvc status`` as a school's office uses them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, add_visits, visit_document, write_config

from hv_connector.cli import main
from hv_connector.store import Store
from hv_connector.store.schema import audit, escalations
from tests.clockkit import CommandClock


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Path:
    path = write_config(tmp_path, sqlite_url)
    store = Store.open(sqlite_url, upgrade=True)
    add_visits(store, [visit_document("V1")])
    store.close()
    return path


@pytest.fixture
def hvc(config: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """Run ``hvc --config hvc.toml ARGS``, starting at ``at`` when given.

    The first command starts at the visit's planned start, each next one after it unless given ``at``
    (:class:`~tests.clockkit.CommandClock`).
    """
    clock = CommandClock(monkeypatch, START)

    def run(*args: str, at: datetime | None = None) -> int:
        with clock.command(at):
            return main(["--config", str(config), *args])

    return run


def test_the_office_takes_the_alarm_and_the_others_see_who_did(hvc: Callable[..., int],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("audit", "seal", "--as", "pt-head") == 0  # the kit writes V1 straight into the store
    assert hvc("watch", "--now", (START + timedelta(minutes=20)).isoformat()) == 0
    assert "fired   #1 visit V1 checkin-missed step 1 (due 10:20 GMT)" in capsys.readouterr().out
    at = START + timedelta(minutes=22)
    assert hvc("escalation", "ack", "1", "--as", "s1", at=at) == 1
    assert "Alex Visitor is on visit V1 and cannot acknowledge their own alarm" in capsys.readouterr().err
    assert hvc("escalation", "ack", "1", "--as", "pt-office", "--note", "phoned, no answer", at=at) == 0
    capsys.readouterr()
    assert hvc("escalation", "ack", "1", "--as", "pt-head", at=at) == 1
    assert ("escalation 1 was already acknowledged by Ola Office at 10:22 GMT (phoned, no answer)"
            in capsys.readouterr().err)
    assert hvc("escalation", "next", "1", "--as", "pt-office", at=at) == 0
    assert "escalated: step 2 fired as escalation 2" in capsys.readouterr().out
    assert hvc("escalation", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["id"], e["step_index"], e["who"], e["acknowledged_by_name"]) for e in listed] == [
        (1, 0, ["office"], "Ola Office"), (2, 1, ["headteacher"], None)]
    assert hvc("escalation", "stand-down", "V1", "--as", "pt-head", "--note", "Alex rang in", at=at) == 0
    assert "2 escalation(s) closed" in capsys.readouterr().out
    assert hvc("escalation", "list") == 0
    assert capsys.readouterr().out.strip() == "No open escalations."
    assert hvc("audit", "verify") == 0, capsys.readouterr().out  # every decision above is vouched for by the log


def test_a_command_given_no_time_happens_after_the_one_before_even_one_given_its_own(
        hvc: Callable[..., int], sqlite_url: str) -> None:
    assert hvc("audit", "seal", "--as", "pt-head") == 0
    assert hvc("watch", "--now", (START + timedelta(minutes=20)).isoformat()) == 0
    assert hvc("escalation", "ack", "1", "--as", "pt-office", at=START + timedelta(minutes=22)) == 0
    assert hvc("escalation", "stand-down", "V1", "--as", "pt-head", "--note", "Alex rang in") == 0
    with Store.open(sqlite_url) as store, store.connect() as conn:
        logged = conn.execute(select(audit.c.action, audit.c.at).order_by(audit.c.seq)).all()
    assert [action for action, _ in logged] == [
        "audit.seal", "visit.mark-overdue", "escalation.fired", "escalation.ack", "escalation.stand-down"]
    stamps = [at for _, at in logged]
    assert stamps == sorted(stamps) and stamps[-1] > stamps[-2]  # one watch tick stamps its entries alike


def test_status_raises_the_alarm_when_the_watch_stops(hvc: Callable[..., int],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("status", at=START) == 1
    assert "the watch has never run" in capsys.readouterr().out
    assert hvc("watch", "--now", START.isoformat(), "--json") == 0
    assert json.loads(capsys.readouterr().out)["checked"] == 1
    assert hvc("status", at=START + timedelta(minutes=2)) == 0
    shown = capsys.readouterr().out
    assert "the watch ticked 2 min ago" in shown
    assert f"  alive: watch:{socket.gethostname()}:{os.getpid()} (ticked 2 min ago)" in shown  # each watch by name
    assert hvc("status", "--json", at=START + timedelta(minutes=6)) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["watch"]["running"] is False and "THE WATCH HAS STOPPED" in report["watch"]["message"]
    assert report["watches"] == []  # nobody alive


def test_a_drill_prints_the_chain_and_writes_only_its_audit_entry(hvc: Callable[..., int], sqlite_url: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("watch", "--drill", "potton", "--at", "2026-11-24T14:00", "--as", "pt-dsl") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "DRILL — nothing is sent; this is what the chain would do:"
    assert "14:15 GMT  checkin-reminder → office: Ola Office (07700 900104)" in out
    assert "14:30 GMT  checkin-missed   → office: Ola Office (07700 900104)" in out
    assert "14:40 GMT  checkin-missed   → headteacher: Jo Watts-Test (07700 900101)" in out
    assert "14:55 GMT  checkin-missed   → headteacher: Jo Watts-Test (07700 900101)" in out  # Call the police
    assert "15:05 GMT  checkin-reminder → visiting-staff: Visitor One (drill) (07700 900998)" in out
    assert "15:10 GMT  chain-exhausted  → office, headteacher: Ola Office (07700 900104), Jo Watts-Test" in out
    store = Store.open(sqlite_url)
    with store.connect() as conn:
        assert conn.execute(select(audit.c.action, audit.c.actor)).all() == [("watch.drill", "pt-dsl")]
    store.close()


def test_a_code_word_check_in_from_the_office_reaches_the_emergency_step_quietly(
        hvc: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    at = START + timedelta(minutes=12)
    assert hvc("audit", "seal", "--as", "pt-head") == 0
    assert hvc("visit", "check-in", "V1", "--as", "pt-office", "--kind", "staff-call", "--code-word-used", at=at) == 0
    capsys.readouterr()
    assert hvc("watch", "--now", (at + timedelta(seconds=30)).isoformat()) == 0
    fired = capsys.readouterr().out
    assert "fired   #1 visit V1 checkin-reminder (due 10:05 GMT)" in fired  # the office call is still owed
    assert "fired   #2 visit V1 code-word step 3 (due 10:12 GMT)" in fired
    assert hvc("escalation", "list") == 0
    shown = capsys.readouterr().out
    assert "Priority call-back requested for Alex Visitor and Sam Second — follow the emergency step" in shown
    assert "bluebell" not in shown and "code word" not in shown.lower()
    assert hvc("visit", "check-in", "V1", "--as", "pt-office", "--note", "says all fine", at=at + timedelta(minutes=1)) == 0
    assert hvc("watch", "--now", (at + timedelta(minutes=2)).isoformat()) == 0
    capsys.readouterr()
    assert hvc("escalation", "list", "--json") == 0
    # "All fine" may be said under duress: only a stand-down or staff back closes a code word alarm.
    assert [e["kind"] for e in json.loads(capsys.readouterr().out)] == ["code-word"]
    assert hvc("audit", "verify") == 0, capsys.readouterr().out  # reminders included: none is taken for a forgery


def test_verify_names_an_alarm_acknowledgement_edited_behind_the_logs_back(
        hvc: Callable[..., int], sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("audit", "seal", "--as", "pt-head") == 0
    assert hvc("watch", "--now", (START + timedelta(minutes=20)).isoformat()) == 0
    assert hvc("escalation", "ack", "1", "--as", "pt-office", at=START + timedelta(minutes=22)) == 0
    capsys.readouterr()
    with Store.open(sqlite_url) as store, store.begin() as conn:
        conn.execute(update(escalations).where(escalations.c.id == 1).values(acknowledged_by="pt-head"))
    assert hvc("audit", "verify") == 1
    assert "Record changed outside hv-connector: escalation 1 (visit V1): edited since its last audit entry" in (
        capsys.readouterr().out)


def test_a_typed_note_s_line_break_shows_as_data_in_the_escalation_list(hvc: Callable[..., int],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("watch", "--now", (START + timedelta(minutes=20)).isoformat()) == 0
    at = START + timedelta(minutes=22)
    assert hvc("escalation", "ack", "1", "--as", "pt-office", "--note", "phoned\nALL CLEAR, stood down", at=at) == 0
    capsys.readouterr()
    assert hvc("escalation", "list") == 0
    out = capsys.readouterr().out
    assert "note: phoned\\x0aALL CLEAR, stood down" in out
    assert not any(line.startswith("ALL CLEAR") for line in out.splitlines())


def test_a_gateway_s_error_shows_as_data_in_the_watch_s_log_and_output(config: Path) -> None:
    # The gateway answers with a terminal escape (a hyperlink, a screen clear): what it says is shown, never acted on.
    script = r"printf 'gateway says \033]8;;https://evil.example/\007call us\033[2J' >&2; exit 1"
    with config.open("a") as toml:
        toml.write(f"\n[watch.notifiers.command]\nargv = {json.dumps(['sh', '-c', script])}\ntimeout = 10\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
    done = subprocess.run([str(Path(sys.executable).with_name("hvc")), "--config", str(config), "watch", "--now",
                           (START + timedelta(minutes=20)).isoformat()], capture_output=True, env=env, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    said = "gateway says \\x1b]8;;https://evil.example/\\x07call us\\x1b[2J"
    shown = [line for line in done.stderr.splitlines() if said in line]
    assert len(shown) == 2, done.stderr
    assert "notifier command failed for escalation 1" in shown[0] and "hvc: command to 07700 900104" in shown[1]
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
