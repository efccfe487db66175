"""The built-in notifiers deliver what the schedule wrote, to the people it names, and fail loudly."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hv_connector.builtin.notifiers import CommandNotifier, EmailNotifier
from hv_connector.config.checks import redacted
from hv_connector.config.loading import load_settings
from hv_connector.config.settings import REDACTED, CommandNotifierSettings, EmailNotifierSettings, Settings
from hv_connector.errors import ConfigError, NotifierError
from hv_connector.plugins import build_plugin_manager
from hv_connector.watch.notify import Notice, Recipient, load_notifiers

NOTICE = Notice(
    escalation_id=7, key="V1/code@x/step/2", kind="code-word", school_id="potton", visit_id="V1", step_index=2,
    due_at=datetime(2026, 11, 23, 11, 0, tzinfo=UTC), who=("dsl",),
    text="Priority call-back requested for Alex Visitor — follow the emergency step: Call the police (999).",
    recipients=(Recipient("Dee Lead", ("dsl",), email="dee@potton.example", mobile="07700 900123"),
                Recipient("No Contact", ("dsl",))),
)


def _email(**overrides: object) -> EmailNotifier:
    options: dict[str, object] = {"host": "smtp.potton.example", "sender": "hvc@potton.example"}
    return EmailNotifier(EmailNotifierSettings.model_validate(options | overrides))


def _command(argv: list[str], **overrides: object) -> CommandNotifier:
    return CommandNotifier(CommandNotifierSettings.model_validate({"argv": argv} | overrides))


def test_email_goes_to_each_recipient_with_an_address_and_the_shared_mailbox() -> None:
    # Sending is tested against a real SMTP server in tests/integration/test_smtp_notifier.py.
    notifier = _email(always_to=["office@potton.example", "dee@potton.example"])
    assert notifier.addresses(NOTICE) == ["dee@potton.example", "office@potton.example"]


def test_the_command_gets_the_number_and_the_text_but_no_tokens(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_CPOMS__TOKEN", "secret-token")
    out = tmp_path / "sent.txt"
    script = ("import os, sys; open(sys.argv[2], 'a').write(sys.argv[1] + '|' + sys.stdin.read() + '|' "
              "+ os.environ['HVC_NOTIFY_KIND'] + '|' + os.environ.get('HVC_CPOMS__TOKEN', 'no-token') + '\\n')")
    notifier = _command([sys.executable, "-c", script, "{to}", str(out)])
    assert notifier.addresses(NOTICE) == ["07700 900123"]
    notifier.send(NOTICE, "07700 900123")
    assert out.read_text() == f"07700 900123|{NOTICE.text}|code-word|no-token\n"


def test_a_failing_command_says_why() -> None:
    notifier = _command([sys.executable, "-c", "import sys; sys.exit('gateway refused: no credit')"])
    with pytest.raises(NotifierError, match="exited 1: gateway refused: no credit"):
        notifier.send(NOTICE, "07700 900123")


def test_a_missing_program_names_argv(tmp_path: Path) -> None:
    notifier = _command([str(tmp_path / "sms-send"), "{to}"])
    with pytest.raises(NotifierError, match=r"cannot run .*sms-send \(No such file or directory\): correct `argv`"):
        notifier.send(NOTICE, "07700 900123")


def _gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for a parent that is not ours to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_hanging_command_is_killed_with_what_it_started_and_names_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # The gateway script starts a child (as a shell script's curl would) and both hang.
    script = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; "
              "time.sleep(60)']); open(sys.argv[1], 'w').write(str(child.pid)); time.sleep(60)")
    notifier = _command([sys.executable, "-c", script, str(pid_file)], timeout=1)
    started = time.monotonic()
    with pytest.raises(NotifierError) as caught:
        notifier.send(NOTICE, "07700 900123")
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith(f"{sys.executable} was still running after 1 s and was killed")
    assert "HVC_WATCH__NOTIFIERS__COMMAND__TIMEOUT" in str(caught.value)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child), f"the command's child {child} outlived the timeout"


def test_notifiers_load_by_name_and_an_unknown_one_is_a_config_error(caplog: pytest.LogCaptureFixture) -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    loaded = load_notifiers(pm, None, None)
    assert [n.name for n in loaded] == ["store", "log"]
    with caplog.at_level(logging.WARNING, logger="hv_connector.watch.alerts"):
        loaded[1].send(NOTICE, "log")
    assert "Priority call-back requested [potton, visit V1, code-word]" in caplog.text
    with pytest.raises(ConfigError, match=r"notifier .pager. .*\(registered: command, email, log, store\)"):
        load_notifiers(pm, None, {"pager": {}})
    with pytest.raises(ConfigError, match=r"\[watch.notifiers.email\] is wrong: `host`: field required; "
                                          r"`sender`: field required"):
        load_notifiers(pm, None, {"email": {}})
    with pytest.raises(ConfigError, match="`starttls`: extra inputs are not permitted"):
        load_notifiers(pm, None, {"email": {"host": "smtp.example", "sender": "a@b.example", "starttls": True}})


def test_the_settings_tables_build_the_notifiers_they_name() -> None:
    settings = Settings(watch={"notifiers": {
        "email": {"host": "smtp.potton.example", "tls": "starttls", "sender": "hvc@potton.example",
                  "username": "hvc", "password": "not-a-real-password", "always_to": ["office@potton.example"]},
        "command": {"argv": ["/usr/local/bin/sms-send", "--to", "{to}"]},
    }})
    loaded = load_notifiers(build_plugin_manager(load_entrypoints=False), settings,
                            settings.watch.notifiers.configured())
    assert [n.name for n in loaded][:2] == ["store", "log"]  # always on
    assert sorted(n.name for n in loaded[2:]) == ["command", "email"]
    email = next(n for n in loaded if n.name == "email")
    assert isinstance(email, EmailNotifier) and email.addresses(NOTICE)[-1] == "office@potton.example"
    assert "not-a-real-password" not in repr(vars(email))  # held as a SecretStr


@pytest.mark.parametrize(("tls", "port"), [("starttls", 587), ("implicit", 465), ("none", 25)])
def test_the_port_follows_the_tls_mode_unless_set(tls: str, port: int) -> None:
    assert EmailNotifierSettings(host="smtp.example", sender="a@b.example", tls=tls).effective_port == port
    assert EmailNotifierSettings(host="smtp.example", sender="a@b.example", tls=tls, port=2525).effective_port == 2525


@pytest.mark.parametrize(("table", "expected"), [
    ('tls = "none"\nusername = "hvc"\npassword = "test-smtp-password"',
     'watch.notifiers.email.password would cross the network in clear with tls = "none": set `tls` to '
     '"starttls" or "implicit"'),
    ('password = "test-smtp-password"',
     "watch.notifiers.email.password needs `username` set as well, the login it goes with"),
    ('tls = "ssl"', "watch.notifiers.email.tls input should be 'starttls', 'implicit' or 'none': "
                    "export HVC_WATCH__NOTIFIERS__EMAIL__TLS"),
])
def test_a_relay_login_that_cannot_work_is_refused_when_settings_load(tmp_path: Path, table: str,
                                                                      expected: str) -> None:
    path = tmp_path / "hvc.toml"
    path.write_text(f'[watch.notifiers.email]\nhost = "smtp.example"\nsender = "a@b.example"\n{table}\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert expected in str(caught.value)
    assert "test-smtp-password" not in str(caught.value)


def test_config_show_hides_the_relay_password() -> None:
    settings = Settings(watch={"notifiers": {"email": {
        "host": "smtp.office365.com", "sender": "hvc@potton.example", "username": "hvc@potton.example",
        "password": "test-smtp-password"}}})
    shown = redacted(settings)["watch"]["notifiers"]["email"]
    assert shown["password"] == REDACTED and shown["tls"] == "starttls" and shown["port"] is None
    assert "test-smtp-password" not in repr(settings)
