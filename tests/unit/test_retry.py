"""The shared retry layer: Retry-After in both forms, back-off bounds with jitter, retries logged and capped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from hv_connector.clients.cpoms.errors import CpomsRejected, CpomsUnavailable
from hv_connector.clients.retry import Backoff, describe, parse_retry_after, retry_after, retrying

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("1.5", 1.5)])
def test_retry_after_in_delta_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "form",
    [
        "Mon, 23 Nov 2026 09:01:30 GMT",  # IMF-fixdate, the one servers must send
        "Monday, 23-Nov-26 09:01:30 GMT",  # the obsolete RFC 850 form
        "Mon Nov 23 09:01:30 2026",  # the obsolete asctime form (no zone: GMT)
    ],
)
def test_retry_after_as_an_http_date_counts_from_now(form: str) -> None:
    assert parse_retry_after(form, now=NOW) == 90.0


def test_an_http_date_already_past_means_go_now() -> None:
    assert parse_retry_after("Mon, 23 Nov 2026 08:59:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "inf", "nan", "1e3", "12 seconds", "Mon, 99 Foo"])
def test_an_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_is_read_from_the_response_header() -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    assert retry_after(httpx.Response(429, headers={"Retry-After": "3"})) == 3.0
    assert 55 < (retry_after(httpx.Response(503, headers={"Retry-After": later})) or 0) <= 60
    assert retry_after(httpx.Response(503)) is None


@pytest.mark.parametrize(("attempt", "base"), [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (40, 30.0)])
def test_the_back_off_doubles_to_its_cap_and_jitters_within_half_to_all_of_it(attempt: int, base: float) -> None:
    backoff = Backoff(initial=0.5, cap=30.0)
    waits = [backoff.delay(attempt) for _ in range(200)]
    assert all(base / 2 <= wait <= base for wait in waits)
    assert min(waits) < base * 0.6 and max(waits) > base * 0.9  # spread over the range, not one value


def test_the_back_off_waits_at_least_as_long_as_retry_after_says() -> None:
    backoff = Backoff(initial=0.5, cap=30.0)
    assert backoff.delay(1, retry_after=7.0) == 7.0
    assert 2.0 <= backoff.delay(4, retry_after=0.0) <= 4.0  # a short hint never cuts the back-off short


def test_without_jitter_the_back_off_is_exact() -> None:
    records = Backoff(initial=30.0, cap=3600.0, jitter=False)
    assert [records.delay(n) for n in (1, 2, 3, 8, 9)] == [30.0, 60.0, 120.0, 3600.0, 3600.0]
    assert records.delay(1, retry_after=600.0) == 600.0


class Flaky:
    """Fails with ``errors`` in turn, then answers ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def tries(sleeps: Sleeps, **kwargs: object) -> object:
    options: dict = {"remote": "CPOMS", "school": "birchwood", "attempts": 3,
                     "transient": lambda exc: isinstance(exc, (CpomsUnavailable, httpx.TransportError)), "sleep": sleeps, **kwargs}
    return retrying(**options)


async def test_each_retry_is_logged_with_the_remote_school_reason_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    sleeps = Sleeps()
    flaky = Flaky(CpomsUnavailable("CPOMS is unavailable (503)", retry_after=2.0),
                  httpx.ReadTimeout("slow"))
    with caplog.at_level(logging.WARNING, logger="hv_connector.clients.retry"):
        assert await tries(sleeps)(flaky) == "ok"
    first, second = (record.getMessage() for record in caplog.records)
    assert first == "CPOMS retry 1/2 for school birchwood in 2.0s: CPOMS is unavailable (503)"
    assert second.startswith("CPOMS retry 2/2 for school birchwood in ")
    assert second.endswith(": ReadTimeout: the connection failed")
    assert sleeps[0] == 2.0 and flaky.calls == 3


async def test_a_retry_after_beyond_the_limit_is_raised_at_once_for_the_next_run() -> None:
    sleeps = Sleeps()
    flaky = Flaky(CpomsUnavailable("rate-limited", retry_after=600.0))
    with pytest.raises(CpomsUnavailable):
        await tries(sleeps, max_retry_after=30.0)(flaky)
    assert flaky.calls == 1 and sleeps == []


async def test_an_error_that_is_not_transient_is_not_retried() -> None:
    sleeps = Sleeps()
    flaky = Flaky(CpomsRejected("refused"))
    with pytest.raises(CpomsRejected):
        await tries(sleeps)(flaky)
    assert flaky.calls == 1 and sleeps == []


async def test_after_the_last_try_the_last_error_is_raised() -> None:
    sleeps = Sleeps()
    flaky = Flaky(*(CpomsUnavailable(f"down {n}") for n in range(3)))
    with pytest.raises(CpomsUnavailable, match="down 2"):
        await tries(sleeps)(flaky)
    assert flaky.calls == 3 and len(sleeps) == 2


def test_a_lost_connection_is_described_by_its_kind_not_its_details() -> None:
    assert describe(httpx.ConnectError("[Errno 111] to 10.0.0.1")) == "ConnectError: the connection failed"
