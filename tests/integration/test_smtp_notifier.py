"""The e-mail notifier against a real SMTP server: aiosmtpd on loopback, as a school's relay would be set up.

One server wants STARTTLS and then a login before MAIL (Microsoft 365 and
Google on port 587); another speaks TLS from the first byte (port 465). The
certificate comes from a test CA that ``trustme`` makes in memory, handed to
the notifier through ``ca_file`` as a school's own CA would be.
"""

from __future__ import annotations

import email
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from hv_connector.builtin.notifiers import EmailNotifier
from hv_connector.config.settings import EmailNotifierSettings
from hv_connector.errors import NotifierError
from hv_connector.watch.notify import Notice, Recipient

LOGIN = "hvc@potton.example"
PASSWORD = "test-smtp-password-7Q"
REFUSED = "left@potton.example"

NOTICE = Notice(
    escalation_id=7, key="V1/code@x/step/2", kind="code-word", school_id="potton", visit_id="V1", step_index=2,
    due_at=datetime(2026, 11, 23, 11, 0, tzinfo=UTC), who=("dsl",),
    text="Priority call-back requested for Alex Visitor — follow the emergency step: Call the police (999).",
    recipients=(Recipient("Dee Lead", ("dsl",), email="dee@potton.example"),),
)


class Mailbox:
    """The server's handler: keeps what it is given, refuses one address as an unknown mailbox."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address == REFUSED:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 2.0.0 Message accepted for delivery"


def _check_login(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        LOGIN.encode(), PASSWORD.encode())
    return AuthResult(success=good, handled=False)


def _free_port() -> int:
    # aiosmtpd's controller needs the port up front (it connects to it to know the server is up).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "school-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _serve(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=_check_login,
                            auth_required=True, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[tuple[Mailbox, int]]:
    """Port 587 style: STARTTLS first, then AUTH, then MAIL."""
    yield from _serve(tls_context=server_tls, require_starttls=True, auth_require_tls=True)


@pytest.fixture
def implicit_tls_server(server_tls: ssl.SSLContext) -> Iterator[tuple[Mailbox, int]]:
    """Port 465 style: TLS from the first byte, then AUTH, then MAIL."""
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; here every byte is TLS already.
    yield from _serve(ssl_context=server_tls, auth_require_tls=False)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts the connection (the kernel does, from the backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


def _notifier(port: int, ca_file: Path | None, **overrides: Any) -> EmailNotifier:
    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "tls": "starttls", "sender": "hvc@potton.example",
                               "username": LOGIN, "password": PASSWORD, "ca_file": ca_file, "timeout": 5}
    return EmailNotifier(EmailNotifierSettings(**(options | overrides)))


def _fails(notifier: EmailNotifier, address: str = "dee@potton.example") -> str:
    with pytest.raises(NotifierError) as caught:
        notifier.send(NOTICE, address)
    message = str(caught.value)
    assert PASSWORD not in message
    return message


def _only_message(mailbox: Mailbox) -> tuple[Envelope, Message]:
    [envelope] = mailbox.received
    return envelope, email.message_from_bytes(envelope.original_content or b"")


@pytest.mark.parametrize("server", ["starttls_server", "implicit_tls_server"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see implicit_tls_server
def test_the_alarm_arrives_over_tls_after_a_login(server: str, ca_file: Path, request: pytest.FixtureRequest,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    mailbox, port = request.getfixturevalue(server)
    tls = "starttls" if server == "starttls_server" else "implicit"
    with caplog.at_level(logging.DEBUG):
        _notifier(port, ca_file, tls=tls).send(NOTICE, "dee@potton.example")
    envelope, message = _only_message(mailbox)
    assert envelope.rcpt_tos == ["dee@potton.example"]
    assert envelope.mail_from == "hvc@potton.example"
    assert message["Subject"] == "Priority call-back requested"
    body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    # The notice's text and a pointer to the board: nothing else (no code word, no pupil) is added.
    assert body == f"{NOTICE.text}\n\nSee the live board in hv-connector (visit V1).\n"
    assert PASSWORD.encode() not in (envelope.original_content or b"")
    assert not [r for r in caplog.records if r.name.startswith("hv_connector") and PASSWORD in r.getMessage()]


def test_a_wrong_password_names_the_password_setting(starttls_server: tuple[Mailbox, int], ca_file: Path) -> None:
    mailbox, port = starttls_server
    message = _fails(_notifier(port, ca_file, password="not-the-password"))
    assert f"the SMTP server 127.0.0.1:{port} refused the login for {LOGIN} (535 " in message
    assert "HVC_WATCH__NOTIFIERS__EMAIL__PASSWORD" in message and "[watch.notifiers.email]" in message
    assert "not-the-password" not in message
    assert mailbox.received == []


def test_no_login_where_the_relay_wants_one_says_to_set_it(starttls_server: tuple[Mailbox, int],
                                                           ca_file: Path) -> None:
    mailbox, port = starttls_server
    message = _fails(_notifier(port, ca_file, username=None, password=None))
    assert "requires a login (530 " in message and "`username`" in message
    assert mailbox.received == []


def test_a_refused_recipient_is_named(starttls_server: tuple[Mailbox, int], ca_file: Path) -> None:
    mailbox, port = starttls_server
    message = _fails(_notifier(port, ca_file), REFUSED)
    assert f"refused the recipient {REFUSED} (550 5.1.1 <{REFUSED}>: Recipient address rejected" in message
    assert "staff directory" in message and "`always_to`" in message
    assert mailbox.received == []


def test_a_certificate_from_an_untrusted_ca_points_at_ca_file(starttls_server: tuple[Mailbox, int]) -> None:
    mailbox, port = starttls_server
    message = _fails(_notifier(port, None))
    assert "TLS with the SMTP server" in message and "CERTIFICATE_VERIFY_FAILED" in message
    assert "HVC_WATCH__NOTIFIERS__EMAIL__CA_FILE" in message
    assert mailbox.received == []


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_a_server_that_never_answers_fails_within_the_timeout(silent_server: int, ca_file: Path, tls: str) -> None:
    started = time.monotonic()
    message = _fails(_notifier(silent_server, ca_file, tls=tls, timeout=0.5))
    assert time.monotonic() - started < 2.5
    assert f"the SMTP server 127.0.0.1:{silent_server} did not answer within 0.5 s" in message
    assert "HVC_WATCH__NOTIFIERS__EMAIL__TIMEOUT" in message


def test_a_closed_port_names_host_and_port(ca_file: Path) -> None:
    port = _free_port()  # nothing listens there now
    message = _fails(_notifier(port, ca_file))
    assert f"cannot reach the SMTP server 127.0.0.1:{port}" in message and "`host` and `port`" in message
