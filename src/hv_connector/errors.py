"""hv-connector's own exceptions.

Every error a user can meet is one of these, with a message that says what
happened and what to do next. The CLI prints the message (never a traceback)
and exits 2 for bad input or configuration, 1 for a refusal by policy or state.

::

    HvcError
     ├── ConfigError            a setting is missing or wrong (exit 2)
     ├── InputError             a file or argument is malformed (exit 2)
     ├── PolicyError
     │    ├── PolicyNotFound    no installed plugin serves the school (exit 2)
     │    ├── PolicyUnavailable the school's plugin is installed but broken (exit 2)
     │    └── PluginContractError  a plugin answers a hook wrongly (exit 2)
     ├── RefusedError           the policy or the visit's state refuses (exit 1)
     ├── StoreError             the database cannot be opened or upgraded (exit 2)
     ├── MisError               the MIS (Wonde) failed
     │    ├── MisAuthError      the token is wrong or the school revoked approval
     │    └── MisUnavailable    outage, rate limit, school inactive: retried
     ├── SinkError              a school's report sink could not take a record (it stays in the outbox)
     │    ├── SinkRefused       the receiver refused it: parked with the receiver's reason, never retried as is
     │    └── SinkUnavailable   outage, timeout, rate limit: the record waits and is retried
     │         └── SinkOutcomeUnknown  the answer was lost: the record may have arrived, so the next
     │                                  try asks the receiver by reference before sending again
     ├── NotifierError          a notifier could not deliver one message: retried
     └── PrintError             a PDF could not be made or written (exit 2)
"""

from __future__ import annotations

from typing import Any

EXCERPT_CHARS = 60
"""The most of a bad value a message quotes: enough to recognise it, never a 10 MB paste into cron mail."""


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as a message quotes it: its repr, cut to ``limit`` characters with the full length said.

    The repr escapes control characters and lone surrogates, so the excerpt is always printable.
    """
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    size = f"{len(value)} characters" if isinstance(value, str | bytes | list | tuple | dict) else "long"
    return f"{shown[:limit]}… ({size})"


class HvcError(Exception):
    """Base of every hv-connector error; ``exit_code`` is what the CLI returns."""

    exit_code = 2


class ConfigError(HvcError):
    """A setting is missing or wrong. Seen by the IT person; names the setting and the fix."""


class InputError(HvcError):
    """A visit file or a command argument is malformed. Seen by whoever ran the command."""


class PolicyError(HvcError):
    """A policy plugin cannot answer for a school."""


class PolicyNotFound(PolicyError):
    """No installed plugin serves the school, or its configured plugin is missing."""


class PolicyUnavailable(PolicyError):
    """The school's policy plugin is installed but broken (fails to import or to answer).

    Seen by whoever acts for that school; the message gives the plugin's error and says
    the other schools are not affected. The IT person sees it in ``hvc plugins``.
    """


class PluginContractError(PolicyError):
    """A plugin answered a hook with the wrong type or a malformed rule. Seen by the plugin's author."""


class RefusedError(HvcError):
    """The school's policy or the visit's state refuses the action. Seen by the staff member acting."""

    exit_code = 1


class StoreError(HvcError):
    """The store cannot be opened, upgraded or written. Seen by the IT person."""


class MisError(HvcError):
    """The MIS API failed for one school; the other schools still sync."""

    exit_code = 1


class MisAuthError(MisError):
    """The app token is wrong, or the school has not approved (or has revoked) hv-connector."""


class MisUnavailable(MisError):
    """The MIS is down, rate-limiting or the school is inactive; worth retrying later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SinkError(HvcError):
    """A school's report sink (CPOMS, another safeguarding system, a plugin's) could not take a record.

    Raised by sinks; the push catches it and the record stays in the outbox. Seen in ``hvc push``'s lines,
    ``hvc outbox list`` and the dashboard's outbox, so the message says what the receiver said and what to do.
    A sink's own errors (the CPOMS client's) subclass these, so the core needs no sink's names.
    """

    exit_code = 1


class SinkRefused(SinkError):
    """The receiver refused the record: it is parked with the receiver's reason and never resent as is.

    :param details: the receiver's own per-field reasons, kept with the parked record.
    """

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class SinkUnavailable(SinkError):
    """The receiver is down, slow or rate-limiting: the record waits (at least ``retry_after`` seconds) and is retried.

    ``outcome_unknown`` is true when the record may have arrived (see :class:`SinkOutcomeUnknown`).
    """

    def __init__(self, message: str, retry_after: float | None = None, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class SinkOutcomeUnknown(SinkUnavailable):
    """The answer was lost after the record went out (a timeout, a dropped connection, a 5xx).

    The record waits like an unavailable one, and its next try asks the receiver by reference
    (``sink.find``) before sending it again, so it never arrives twice.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after, outcome_unknown=True)


class NotifierError(HvcError):
    """A notifier (e-mail, a command) could not deliver one message; the watch retries it on later ticks.

    Seen on the board and in ``hvc status`` beside the alarm, so the message names the setting to change
    and never holds a password.
    """

    exit_code = 1


class PrintError(HvcError):
    """A document could not be made into a PDF, or the PDF could not be written.

    Seen by whoever asked for the PDF (``hvc visit pack``, the dashboard); the message says which
    template or file, and what to do.
    """
