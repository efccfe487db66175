"""The built-in notifiers: the store (the board), the log, SMTP e-mail and "run this command".

Registered like any plugin through the ``notifiers`` hook. Each factory is
called as ``factory(settings, options)``, where ``options`` is the notifier's
table in the settings (e.g. ``[watch.notifiers.email]``).
"""

from __future__ import annotations

import logging
import os
import smtplib
import subprocess
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from pydantic import SecretStr

from hv_connector import hookimpl
from hv_connector.errors import ConfigError
from hv_connector.watch.notify import Notice, Notifier, NotifierFactory

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


class EmailNotifier:
    """Plain-text e-mail over SMTP, one message per recipient with an address in the directory.

    Options: ``host``, ``port`` (25), ``sender``, ``username``, ``password``,
    ``starttls`` (false), ``timeout`` seconds (10), ``always_to`` (addresses
    that get every notice, e.g. the office's shared mailbox).
    """

    name = "email"

    def __init__(self, *, host: str, sender: str, port: int = 25, username: str | None = None,
                 password: SecretStr | str | None = None, starttls: bool = False, timeout: float = 10.0,
                 always_to: tuple[str, ...] = ()) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username = username
        self.password = SecretStr(password) if isinstance(password, str) else password
        self.starttls, self.timeout, self.always_to = starttls, timeout, tuple(always_to)

    def addresses(self, notice: Notice) -> list[str]:
        found = [r.email for r in notice.recipients if r.email]
        return list(dict.fromkeys([*found, *self.always_to]))

    def send(self, notice: Notice, address: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = notice.subject
        message.set_content(f"{notice.text}\n\nSee the live board in hv-connector (visit {notice.visit_id}).\n")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(message)


class CommandNotifier:
    """Run a command for each mobile number reached (a school's SMS gateway CLI, a paging script).

    Options: ``argv`` (list; ``{to}`` in an item is replaced by the number),
    ``timeout`` seconds (20), ``always_to`` (numbers that get every notice).
    The message is on stdin and in ``HVC_NOTIFY_TEXT``; ``HVC_NOTIFY_TO``,
    ``HVC_NOTIFY_SUBJECT``, ``HVC_NOTIFY_KIND``, ``HVC_NOTIFY_SCHOOL`` and
    ``HVC_NOTIFY_VISIT`` say the rest. Other ``HVC_*`` variables (tokens)
    are not passed on. A non-zero exit is a failure, retried later.
    """

    name = "command"

    def __init__(self, *, argv: list[str], timeout: float = 20.0, always_to: tuple[str, ...] = ()) -> None:
        if not argv:
            raise ConfigError("the command notifier needs `argv` under [watch.notifiers.command], "
                              'e.g. argv = ["/usr/local/bin/sms-send", "--to", "{to}"]')
        self.argv, self.timeout, self.always_to = list(argv), timeout, tuple(always_to)

    def addresses(self, notice: Notice) -> list[str]:
        found = [r.mobile for r in notice.recipients if r.mobile]
        return list(dict.fromkeys([*found, *self.always_to]))

    def send(self, notice: Notice, address: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
        env.update(HVC_NOTIFY_TO=address, HVC_NOTIFY_TEXT=notice.text, HVC_NOTIFY_SUBJECT=notice.subject,
                   HVC_NOTIFY_KIND=notice.kind, HVC_NOTIFY_SCHOOL=notice.school_id, HVC_NOTIFY_VISIT=notice.visit_id)
        argv = [item.replace("{to}", address) for item in self.argv]
        done = subprocess.run(argv, input=notice.text, env=env, capture_output=True, text=True,
                              timeout=self.timeout, check=False)
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{argv[0]} exited {done.returncode}: {reason[0][:200]}")


def _options(options: Mapping[str, Any], allowed: set[str], name: str) -> dict[str, Any]:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} under [watch.notifiers.{name}]; "
                          f"known: {', '.join(sorted(allowed))}")
    return {k: tuple(v) if k == "always_to" else v for k, v in options.items()}


def _email(settings: Any, options: Mapping[str, Any]) -> Notifier:
    allowed = {"host", "port", "sender", "username", "password", "starttls", "timeout", "always_to"}
    chosen = _options(options, allowed, "email")
    missing = [k for k in ("host", "sender") if not chosen.get(k)]
    if missing:
        raise ConfigError(f"the email notifier needs {' and '.join(missing)} under [watch.notifiers.email]")
    return EmailNotifier(**chosen)


def _command(settings: Any, options: Mapping[str, Any]) -> Notifier:
    return CommandNotifier(**_options(options, {"argv", "timeout", "always_to"}, "command"))


@hookimpl
def notifiers() -> dict[str, NotifierFactory]:
    return {
        "store": lambda settings, options: StoreNotifier(),
        "log": lambda settings, options: LogNotifier(),
        "email": _email,
        "command": _command,
    }
