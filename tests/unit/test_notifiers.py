"""The built-in notifiers deliver what the schedule wrote, to the people it names, and fail loudly."""

from __future__ import annotations

import email
import logging
import socketserver
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hv_connector.builtin.notifiers import CommandNotifier, EmailNotifier
from hv_connector.errors import ConfigError
from hv_connector.plugins import build_plugin_manager
from hv_connector.watch.notify import Notice, Recipient, load_notifiers

NOTICE = Notice(
    escalation_id=7, key="V1/code@x/step/2", kind="code-word", school_id="potton", visit_id="V1", step_index=2,
    due_at=datetime(2026, 11, 23, 11, 0, tzinfo=UTC), who=("dsl",),
    text="Priority call-back requested for Alex Visitor — follow the emergency step: Call the police (999).",
    recipients=(Recipient("Dee Lead", ("dsl",), email="dee@potton.example", mobile="07700 900123"),
                Recipient("No Contact", ("dsl",))),
)


class _Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[list[str], bytes]] = []


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, take MAIL/RCPT/DATA, say OK."""

    def handle(self) -> None:
        server: _Sink = self.server  # type: ignore[assignment]
        self.wfile.write(b"220 sink.example ESMTP\r\n")
        rcpts: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink.example\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                server.messages.append((rcpts, body))
                rcpts = []
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_sink() -> Iterator[_Sink]:
    sink = _Sink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()


def test_email_reaches_each_recipient_with_an_address_and_the_shared_mailbox(smtp_sink: _Sink) -> None:
    notifier = EmailNotifier(host="127.0.0.1", port=smtp_sink.server_address[1], sender="hvc@potton.example",
                             always_to=("office@potton.example",))
    addresses = notifier.addresses(NOTICE)
    assert addresses == ["dee@potton.example", "office@potton.example"]
    for address in addresses:
        notifier.send(NOTICE, address)
    assert [rcpts for rcpts, _ in smtp_sink.messages] == [["dee@potton.example"], ["office@potton.example"]]
    message = email.message_from_bytes(smtp_sink.messages[0][1])
    assert message["Subject"] == "Priority call-back requested"
    assert "follow the emergency step" in message.get_payload(decode=True).decode()


def test_email_to_a_server_that_is_not_there_raises_for_a_retry() -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]
    notifier = EmailNotifier(host="127.0.0.1", port=port, sender="hvc@potton.example", timeout=2)
    with pytest.raises(OSError):
        notifier.send(NOTICE, "dee@potton.example")


def test_the_command_gets_the_number_and_the_text_but_no_tokens(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_CPOMS__TOKEN", "secret-token")
    out = tmp_path / "sent.txt"
    script = ("import os, sys; open(sys.argv[2], 'a').write(sys.argv[1] + '|' + sys.stdin.read() + '|' "
              "+ os.environ['HVC_NOTIFY_KIND'] + '|' + os.environ.get('HVC_CPOMS__TOKEN', 'no-token') + '\\n')")
    notifier = CommandNotifier(argv=[sys.executable, "-c", script, "{to}", str(out)])
    assert notifier.addresses(NOTICE) == ["07700 900123"]
    notifier.send(NOTICE, "07700 900123")
    assert out.read_text() == f"07700 900123|{NOTICE.text}|code-word|no-token\n"


def test_a_failing_command_says_why() -> None:
    notifier = CommandNotifier(argv=[sys.executable, "-c", "import sys; sys.exit('gateway refused: no credit')"])
    with pytest.raises(RuntimeError, match="exited 1: gateway refused: no credit"):
        notifier.send(NOTICE, "07700 900123")


def test_notifiers_load_by_name_and_an_unknown_one_is_a_config_error(caplog: pytest.LogCaptureFixture) -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    loaded = load_notifiers(pm, None, None)
    assert [n.name for n in loaded] == ["store", "log"]
    with caplog.at_level(logging.WARNING, logger="hv_connector.watch.alerts"):
        loaded[1].send(NOTICE, "log")
    assert "Priority call-back requested [potton, visit V1, code-word]" in caplog.text
    with pytest.raises(ConfigError, match=r"notifier .pager. .*\(registered: command, email, log, store\)"):
        load_notifiers(pm, None, {"pager": {}})
    with pytest.raises(ConfigError, match="needs host and sender"):
        load_notifiers(pm, None, {"email": {}})


def test_the_settings_tables_build_the_notifiers_they_name() -> None:
    from hv_connector.config.settings import Settings

    settings = Settings(watch={"notifiers": {
        "email": {"host": "smtp.potton.example", "port": 587, "starttls": True, "sender": "hvc@potton.example",
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
