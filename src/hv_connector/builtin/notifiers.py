"""The built-in notifiers: the store (the board), the log, SMTP e-mail and "run this command".

Registered through the ``notifiers`` hook (by :mod:`hv_connector.builtin.extensions`). Each factory is
called as ``factory(settings, options)``, where ``options`` is the notifier's
table in the settings (e.g. ``[watch.notifiers.email]``), checked against
its settings model (:class:`~hv_connector.config.settings.EmailNotifierSettings`,
:class:`~hv_connector.config.settings.CommandNotifierSettings`).

E-mail and command sends each have a time limit (the table's ``timeout``), so
a hanging relay or gateway fails its own send instead of holding the watch;
every failure is a :class:`~hv_connector.errors.NotifierError` whose message
names the setting to change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import smtplib
import ssl
import subprocess
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from hv_connector.config.messages import setting_fix
from hv_connector.config.settings import REDACTED, CommandNotifierSettings, EmailNotifierSettings
from hv_connector.errors import ConfigError, NotifierError
from hv_connector.watch.notify import Notice, Notifier, NotifierFactory, Recipient

log = logging.getLogger("hv_connector.watch.alerts")


class StoreNotifier:
    """The escalation row itself is what the board shows; delivery is writing it, which has happened."""

    name = "store"

    def addresses(self, notice: Notice) -> list[str]:
        return ["dashboard"]

    def send(self, notice: Notice, address: str) -> None:
        return None


class LogNotifier:
    """One warning line per event in the ``hv_connector.watch.alerts`` log (journald, a log file)."""

    name = "log"

    def addresses(self, notice: Notice) -> list[str]:
        return ["log"]

    def send(self, notice: Notice, address: str) -> None:
        log.warning("%s [%s, visit %s, %s]: %s (to %s)", notice.subject, notice.school_id, notice.visit_id,
                    notice.kind, notice.text, ", ".join(notice.who))


class _Table(Protocol):
    """A notifier's settings table: the addresses it always reaches besides the recipients."""

    @property
    def always_to(self) -> list[str]: ...


_TableT = TypeVar("_TableT", bound=_Table)


class _Addressing(Generic[_TableT]):
    """A notifier set up from its settings table: it reaches each recipient at their address of its kind
    (:meth:`_address`), then the table's ``always_to``; each address once, in that order."""

    def __init__(self, settings: _TableT) -> None:
        self.settings = settings

    def addresses(self, notice: Notice) -> list[str]:
        found = [self._address(r) for r in notice.recipients]
        return list(dict.fromkeys([*(address for address in found if address), *self.settings.always_to]))

    def _address(self, recipient: Recipient) -> str | None:
        raise NotImplementedError


class EmailNotifier(_Addressing[EmailNotifierSettings]):
    """Plain-text e-mail over SMTP, one message per recipient with an address in the directory.

    Connects with STARTTLS, implicit TLS or none (``tls``), logs in when
    ``username`` and ``password`` are set, and sends. A refused login, a refused recipient, a
    failed TLS handshake or a server silent for ``timeout`` seconds raises
    :class:`NotifierError` naming the setting to fix.
    """

    name = "email"

    def _address(self, recipient: Recipient) -> str | None:
        return recipient.email

    def send(self, notice: Notice, address: str) -> None:
        try:
            with self._connect() as smtp:
                if self.settings.tls == "starttls":
                    smtp.starttls(context=self._tls_context())
                if self.settings.username is not None and self.settings.password is not None:
                    smtp.login(self.settings.username, self.settings.password.get_secret_value())
                smtp.send_message(self._message(notice, address))
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(self._explain(exc, address)) from exc

    def _message(self, notice: Notice, address: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = address
        message["Subject"] = notice.subject
        board = f"\n\nSee the live board in hv-connector (visit {notice.visit_id}).\n" if notice.visit_id else "\n"
        message.set_content(f"{notice.text}{board}")
        return message

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls == "implicit":
            return smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout, context=self._tls_context())
        return smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _explain(self, exc: BaseException, address: str) -> str:
        """What went wrong, with the setting to change; the server's words kept, the password never."""
        s = self.settings
        server = f"the SMTP server {s.host}:{s.effective_port}"
        # smtplib turns a read that timed out into "connection closed"; the timeout is the cause that matters.
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            text = (f"{server} did not answer within {s.timeout:g} s: if it is just slow, allow longer "
                    f"({_setting('email', 'timeout')}); if it never answers, check that `tls` suits the port "
                    "(465 is implicit, 587 starttls)")
        elif isinstance(exc, smtplib.SMTPAuthenticationError):
            text = (f"{server} refused the login for {s.username} ({_reply(exc)}): correct `username` under "
                    f"[watch.notifiers.email], or the password: {_setting('email', 'password')}")
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            refused = ", ".join(f"{to} ({_reply_of(*why)})" for to, why in exc.recipients.items())
            text = (f"{server} refused the recipient {refused}: correct the address in the staff directory "
                    "or in `always_to` under [watch.notifiers.email]")
        elif isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code == 530:
            text = (f"{server} requires a login ({_reply(exc)}): set `username` under [watch.notifiers.email] "
                    f"and the password: {_setting('email', 'password')}")
        elif isinstance(exc, smtplib.SMTPSenderRefused):
            text = (f"{server} refused the sender {s.sender} ({_reply(exc)}): allow the login to send as it, "
                    f"or change it: {_setting('email', 'sender')}")
        elif isinstance(exc, smtplib.SMTPNotSupportedError):
            text = f"{server}: {exc} Check that `tls` and `port` under [watch.notifiers.email] match the server"
        elif isinstance(exc, ssl.SSLError):
            text = (f"TLS with {server} failed ({exc.reason or exc}): check that `tls` suits the port (465 is "
                    f"implicit, 587 starttls); for a certificate from the school's own CA, name its PEM file: "
                    f"{_setting('email', 'ca_file')}")
        elif isinstance(exc, smtplib.SMTPResponseException):
            text = f"{server} answered {_reply(exc)} to the message for {address}"
        elif isinstance(exc, smtplib.SMTPException):
            text = f"{server} failed: {exc}"
        else:
            text = (f"cannot reach {server} ({getattr(exc, 'strerror', None) or exc}): check `host` and `port` "
                    "under [watch.notifiers.email] and that this machine may connect to it")
        password = s.password.get_secret_value() if s.password else ""
        return text.replace(password, REDACTED) if password else text


class CommandNotifier(_Addressing[CommandNotifierSettings]):
    """Run a command for each mobile number reached (a school's SMS gateway CLI, a paging script).

    ``{to}`` in an ``argv`` item is replaced by the number. The message is on
    stdin and in ``HVC_NOTIFY_TEXT``; ``HVC_NOTIFY_TO``,
    ``HVC_NOTIFY_SUBJECT``, ``HVC_NOTIFY_KIND``, ``HVC_NOTIFY_SCHOOL`` and
    ``HVC_NOTIFY_VISIT`` say the rest. Other ``HVC_*`` variables (tokens)
    are not passed on. A non-zero exit, or a run still going after
    ``timeout`` seconds (killed, with anything it started), raises
    :class:`NotifierError` and is retried later.
    """

    name = "command"

    def _address(self, recipient: Recipient) -> str | None:
        return recipient.mobile

    def send(self, notice: Notice, address: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
        env.update(HVC_NOTIFY_TO=address, HVC_NOTIFY_TEXT=notice.text, HVC_NOTIFY_SUBJECT=notice.subject,
                   HVC_NOTIFY_KIND=notice.kind, HVC_NOTIFY_SCHOOL=notice.school_id, HVC_NOTIFY_VISIT=notice.visit_id)
        argv = [item.replace("{to}", address) for item in self.settings.argv]
        try:
            # A session of its own, so a timeout kills the gateway script's children (curl, ssh) too.
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env=env, text=True, start_new_session=True)
        except OSError as exc:
            raise NotifierError(f"cannot run {argv[0]} ({exc.strerror or exc}): correct `argv` under "
                                "[watch.notifiers.command]") from exc
        with process:
            try:
                stdout, stderr = process.communicate(notice.text, timeout=self.settings.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise NotifierError(f"{argv[0]} was still running after {self.settings.timeout:g} s and was "
                                    f"killed: if the gateway is just slow, allow longer "
                                    f"({_setting('command', 'timeout')})") from None
        if process.returncode != 0:
            reason = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
            raise NotifierError(f"{argv[0]} exited {process.returncode}: {reason[0][:200]}")


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _setting(notifier: str, key: str) -> str:
    """How to change ``key`` of the notifier: its environment variable and its place in ``hvc.toml``."""
    return setting_fix(["watch", "notifiers", notifier, key])


def _reply_of(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _reply_of(exc.smtp_code, exc.smtp_error)


_Section = TypeVar("_Section", bound=BaseModel)


def _section(model: type[_Section], options: Mapping[str, Any], name: str) -> _Section:
    """``options`` checked as the notifier's settings table; a wrong one is a :class:`ConfigError`."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:  # the input may hold the password: report places and reasons only
        wrong = "; ".join(f"`{'.'.join(map(str, e['loc'])) or name}`: {e['msg'].lower()}"
                          for e in exc.errors(include_input=False, include_url=False))
        raise ConfigError(f"[watch.notifiers.{name}] is wrong: {wrong}") from None


def _email(settings: Any, options: Mapping[str, Any]) -> Notifier:
    return EmailNotifier(_section(EmailNotifierSettings, options, "email"))


def _command(settings: Any, options: Mapping[str, Any]) -> Notifier:
    return CommandNotifier(_section(CommandNotifierSettings, options, "command"))


FACTORIES: dict[str, NotifierFactory] = {
    "store": lambda settings, options: StoreNotifier(),
    "log": lambda settings, options: LogNotifier(),
    "email": _email,
    "command": _command,
}
"""The built-in notifiers by name, as the ``notifiers`` hook registers them (:mod:`hv_connector.builtin.extensions`)."""
