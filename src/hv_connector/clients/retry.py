"""Trying a request again: Retry-After read in both forms, one back-off with jitter, each retry logged.

One rule for every client (and, without the jitter, for outbox records between push runs):

- wait the capped exponential back-off: ``initial`` seconds, doubling with each try, at most
  ``cap``; a client jitters it to between half and all of that, so requests that failed
  together do not come back together;
- when the server sent ``Retry-After``, wait at least that long;
- a ``Retry-After`` beyond ``max_retry_after`` is not waited out: the error goes to the caller,
  whose next run (``hvc sync``, ``hvc push``) tries again.

Each retry is logged here, naming the remote, the school and the reason; the reason is our
own error message, which never carries a token.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

log = logging.getLogger(__name__)

_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")
"""RFC 9110 delta-seconds are digits; a decimal fraction is read too, as some servers send one."""

Sleep = Callable[[float], Awaitable[None]]
Wait = Callable[[RetryCallState], float]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (RFC 9110 §10.2.3), or ``None`` if there is none to read.

    :param value: delta-seconds (``"120"``) or an HTTP-date (``"Wed, 21 Oct 2026 07:28:00 GMT"``).
    :param now: the time an HTTP-date is counted from (default: the current time, UTC).
    :returns: seconds, never negative (a date already past is ``0.0``); ``None`` for garbage.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # the asctime form, and "-0000", carry no zone: HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the response's ``Retry-After`` header asks for, if it has a readable one."""
    return parse_retry_after(response.headers.get("retry-after"))


@dataclass(frozen=True)
class Backoff:
    """How long to wait before try ``attempt + 1``; also a tenacity ``wait`` that honours Retry-After.

    :param initial: the first wait, in seconds, before jitter.
    :param cap: the longest wait, before jitter.
    :param jitter: spread each wait over half to all of it (off only where the wait is shown to people).
    """

    initial: float = 0.5
    cap: float = 30.0
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after try ``attempt`` (the first is 1), at least ``retry_after`` when the server gave one."""
        wait: float = min(self.cap, self.initial * 2.0 ** max(0, attempt - 1))
        if self.jitter:
            wait *= random.uniform(0.5, 1.0)
        return wait if retry_after is None else max(wait, retry_after)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.delay(state.attempt_number, getattr(exc, "retry_after", None))


def retrying(
    *,
    remote: str,
    school: str | None,
    attempts: int,
    transient: Callable[[BaseException], bool],
    wait: Wait | None = None,
    max_retry_after: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> AsyncRetrying:
    """A tenacity retrying for one request: transient errors retried, each retry logged, the last one raised.

    :param remote: the system's name in the log line (``"Wonde"``, ``"CPOMS"``).
    :param school: the school the request is for, in the log line.
    :param attempts: tries in all, the first included.
    :param transient: whether an error is worth another try.
    :param wait: the wait between tries (default :class:`Backoff`; tests pass zero).
    :param max_retry_after: the longest ``Retry-After`` waited out; a longer one is raised at once.
    :param sleep: how to wait (tests record instead of sleeping).
    """

    def worthwhile(exc: BaseException) -> bool:
        hinted = getattr(exc, "retry_after", None)
        return transient(exc) and (hinted is None or hinted <= max_retry_after)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s retry %d/%d for school %s in %.1fs: %s",
                    remote, state.attempt_number, attempts - 1, school or "-", pause, describe(exc))

    return AsyncRetrying(
        retry=retry_if_exception(worthwhile),
        stop=stop_after_attempt(attempts),
        wait=wait or Backoff(),
        before_sleep=log_retry,
        sleep=sleep,
        reraise=True,
    )


def describe(exc: BaseException | None) -> str:
    """A failure in words for a log line or a message: our errors as they are, a lost connection by its kind."""
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: the connection failed"
    return str(exc)
