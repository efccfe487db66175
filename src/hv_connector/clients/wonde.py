"""The Wonde API: payload models and an async client for one app token.

One :class:`WondeClient` serves every school the token reaches (the token is
the app's, not the school's), so its request-rate limiter and concurrency
bound apply to all schools syncing at once. Lists are walked as async
iterators of :class:`Page`; a page's records stay raw so the caller validates
each one on its own and a bad record never spoils its neighbours::

    async with WondeClient(token, base_url=...) as wonde:
        async for page in wonde.students("A1930499544", since=cursor):
            ...

Errors come out as :mod:`hv_connector.errors` classes from one function,
:func:`error_for`; the transient ones (429, 423, 5xx, lost connections) are
retried with capped exponential back-off and jitter, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, Strict, field_validator
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from hv_connector import __version__
from hv_connector.errors import MisAuthError, MisError, MisUnavailable

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.wonde.com/v1.0/"
QUERY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""How Wonde's ``updated_after`` filter wants a time (read as UTC)."""

STUDENT_INCLUDES: tuple[str, ...] = (
    "contact_details",
    "contacts",
    "contacts.contact_details",
    "medical_conditions",
    "medical_notes",
    "sen_needs",
    "attendance_summary",
    "extended_details",
    "education_details",
)
"""Everything a pupil briefing needs, fetched with the pupil in one request per page."""

CURSOR_PAGING = {"cursor": "true"}
"""Ask for cursor paging: pages stay stable while the MIS changes mid-walk (numbered pages shift, so a
record could be skipped). Where cursor mode is not offered the ``next`` links number pages as usual, and
they are followed as given either way."""

TOKEN_SETTING = "HVC_WONDE__TOKEN / [wonde] token"
TRANSIENT_STATUSES = frozenset({423, 429, 500, 502, 503, 504})
"""Statuses worth retrying: Wonde's docs list 423, 429, 500 and 503; 502/504 are proxies failing."""


# --- payload models --------------------------------------------------------------------------


class Payload(BaseModel):
    """Base of Wonde payloads: unknown fields are ignored, so new API fields never break a sync.

    Ids and codes may arrive as numbers and are read as text; names are strict (see :class:`Student`).
    """

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


def parse_time(value: Any) -> datetime | None:
    """A Wonde time: a PHP date object ``{date, timezone_type, timezone}``, an ISO string, or ``None``.

    The object's own ``timezone`` is read (``UTC`` is common, ``Europe/London``
    appears too); an offset such as ``+01:00`` is accepted. The result is aware.
    """
    if value is None or isinstance(value, datetime):
        return value
    zone: Any = timezone.utc
    if isinstance(value, dict):
        zone = _zone(value.get("timezone"))
        value = value.get("date")
        if value is None:
            return None
    if not isinstance(value, str):
        raise ValueError(f"not a Wonde time: {type(value).__name__}")
    moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _zone(name: Any) -> Any:
    if name in (None, "", "UTC", "Z"):
        return timezone.utc
    if not isinstance(name, str):
        raise ValueError(f"not a time zone: {name!r}")
    if name[:1] in "+-":
        return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_date(value: Any) -> date | None:
    """A Wonde date (a birthday): the calendar day of the time in its own zone."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = parse_time(value)
    return None if moment is None else moment.date()


WondeTime = Annotated[datetime | None, BeforeValidator(parse_time)]
WondeDate = Annotated[date | None, BeforeValidator(parse_date)]


def _unwrap(value: Any) -> Any:
    """An included relation arrives as ``{"data": ...}``; a missing scope gives ``null``."""
    if isinstance(value, dict) and set(value) <= {"data", "meta"}:
        return value.get("data")
    return value


def _unwrap_many(value: Any) -> Any:
    value = _unwrap(value)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Many = BeforeValidator(_unwrap_many)
One = BeforeValidator(_unwrap)


Text = str | None


class Phones(Payload):
    phone: Text = None
    primary: Text = None
    home: Text = None
    work: Text = None
    mobile: Text = None

    def numbers(self) -> tuple[str, ...]:
        """Distinct non-empty numbers, mobile first."""
        seen: dict[str, None] = {}
        for number in (self.mobile, self.primary, self.phone, self.home, self.work):
            if number and number.strip():
                seen.setdefault(number.strip(), None)
        return tuple(seen)


class Emails(Payload):
    email: Text = None
    primary: Text = None
    home: Text = None
    work: Text = None

    def first(self) -> str | None:
        return next((e.strip() for e in (self.primary, self.email, self.home, self.work) if e and e.strip()), None)


ADDRESS_PARTS = ("house_number", "house_name", "apartment", "street", "district", "town", "county", "country",
                 "postcode")


class Address(Payload):
    house_number: Text = None
    house_name: Text = None
    apartment: Text = None
    street: Text = None
    district: Text = None
    town: Text = None
    county: Text = None
    country: Text = None
    postcode: Text = None

    def lines(self) -> dict[str, str]:
        """The non-empty parts, in address order."""
        parts = ((name, getattr(self, name)) for name in ADDRESS_PARTS)
        return {name: value.strip() for name, value in parts if value and value.strip()}

    def text(self) -> str | None:
        """One line for matching visits at the same address: ``12 Elm Road, Town, AB1 2CD``."""
        parts = self.lines()
        if not parts:
            return None
        first = " ".join(p for p in (parts.get("apartment"), parts.get("house_name"), parts.get("house_number"),
                                      parts.get("street")) if p)
        rest = [parts.get(k) for k in ("district", "town", "county", "postcode")]
        return ", ".join(p for p in (first, *rest) if p)


class Addresses(Payload):
    home: Address | None = None
    work: Address | None = None
    postal: Address | None = None


class ContactDetails(Payload):
    phones: Phones | None = None
    emails: Emails | None = None
    addresses: Addresses | None = None


def _relationship(value: Any) -> Any:
    if isinstance(value, str):
        return {"relationship": value}
    return _unwrap(value)


class Relationship(Payload):
    """How a contact stands to the pupil (arrives as an object, or as plain text from some MIS)."""

    relationship: Text = None
    parental_responsibility: bool | None = None
    priority: int | None = None
    lives_with_pupil: bool | None = None
    court_order: bool | None = None
    no_contact: bool | None = None


class Contact(Payload):
    id: str = Field(min_length=1)
    mis_id: Text = None
    title: Text = None
    forename: Text = None
    surname: Text = None
    relationship: Annotated[Relationship | None, BeforeValidator(_relationship)] = None
    contact_details: Annotated[ContactDetails | None, One] = None


class MedicalCondition(Payload):
    id: Text = None
    name: Text = None
    type: Text = None
    description: Text = None
    notes: Text = None


class MedicalNote(Payload):
    id: Text = None
    text: Text = None
    note: Text = None
    description: Text = None


class SenNeed(Payload):
    id: Text = None
    type: Text = None
    need: Text = None
    description: Text = Field(default=None, validation_alias=AliasChoices("description", "type_description"))
    provision: Text = None
    rank: int | None = None


class AttendanceSummary(Payload):
    """Sessions over one period; Wonde's field names are unverified, so the common spellings are read."""

    period: Text = Field(default=None, validation_alias=AliasChoices("period", "name", "type"))
    start_date: WondeDate = None
    end_date: WondeDate = None
    possible: int | None = Field(default=None, validation_alias=AliasChoices("possible", "possible_sessions"))
    attended: int | None = Field(
        default=None, validation_alias=AliasChoices("attended", "attended_sessions", "present"))
    authorised: int | None = Field(
        default=None,
        validation_alias=AliasChoices("authorised", "authorised_absence", "authorised_absence_sessions"))
    unauthorised: int | None = Field(
        default=None,
        validation_alias=AliasChoices("unauthorised", "unauthorised_absence", "unauthorised_absence_sessions"))


class Student(Payload):
    """A pupil with the includes of :data:`STUDENT_INCLUDES`; fields without a granted scope are ``None``."""

    id: str = Field(min_length=1)
    mis_id: Text = None
    upi: Text = None
    upn: Text = None
    title: Text = None
    # Wonde sends an ungranted field as null, never leaves it out: a record without its names is broken.
    forename: Annotated[str | None, Strict()]
    surname: Annotated[str | None, Strict()]
    legal_forename: Text = None
    legal_surname: Text = None
    middle_names: Text = None
    date_of_birth: WondeDate = None
    updated_at: WondeTime = None
    year: Annotated[dict[str, Any] | None, One] = None
    contact_details: Annotated[ContactDetails | None, One] = None
    contacts: Annotated[list[Contact], Many] = []
    medical_conditions: Annotated[list[MedicalCondition], Many] = []
    medical_notes: Annotated[list[MedicalNote], Many] = []
    sen_needs: Annotated[list[SenNeed], Many] = []
    attendance_summary: Annotated[list[AttendanceSummary], Many] = []
    extended_details: Annotated[dict[str, Any] | None, One] = None
    education_details: Annotated[dict[str, Any] | None, One] = None


class Deletion(Payload):
    """One item of the deletions feed: a record that left the MIS (or came back, if ``restored_at``)."""

    id: str = Field(min_length=1)
    type: Text = None
    mis_id: Text = None
    restored_at: WondeTime = None
    deleted_at: WondeTime = None
    created_at: WondeTime = None
    updated_at: WondeTime = None

    @property
    def at(self) -> datetime | None:
        return self.deleted_at or self.updated_at or self.created_at


class Pagination(Payload):
    next: str | None = None
    more: bool = False
    per_page: int | None = None
    current_page: int | None = None

    @field_validator("per_page", "current_page", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("more", mode="before")
    @classmethod
    def _more(cls, value: Any) -> Any:
        return False if value is None else value


class Meta(Payload):
    pagination: Pagination = Pagination()


class Page(Payload):
    """One page of a list: the raw records (validated one by one by the caller) and where next."""

    data: list[Any]
    meta: Meta = Meta()

    @property
    def records(self) -> list[Any]:
        return self.data


# --- errors ----------------------------------------------------------------------------------


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if one was given."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def error_for(response: httpx.Response, school: str | None) -> MisError | None:
    """The error a Wonde response means, or ``None`` for a success. The one status-to-class map."""
    status = response.status_code
    if status < 300:
        return None
    who = f"school {school}" if school else "Wonde"
    if status == 401:
        return MisAuthError(f"the Wonde app token is wrong (401 for {who}): check {TOKEN_SETTING}")
    if status in (403, 404) and school:
        return MisAuthError(
            f"school {school} has not approved hv-connector or revoked it ({status}): "
            "ask the school to re-approve hv-connector in its Wonde portal"
        )
    if status == 422:
        return MisError(f"Wonde refused the request for {who} (422): {_body(response)}")
    if status == 423:
        return MisUnavailable(
            f"{who} is inactive in Wonde (423 school inactive): ask the school to check its Wonde account",
            retry_after(response),
        )
    if status == 429:
        return MisUnavailable(f"Wonde is rate-limiting requests for {who} (429): lower [wonde] requests_per_second",
                              retry_after(response))
    if status in TRANSIENT_STATUSES:
        return MisUnavailable(f"Wonde failed for {who} ({status}): it will be retried on the next sync",
                              retry_after(response))
    return MisError(f"Wonde answered {status} for {who}: {_body(response)}")


def _body(response: httpx.Response, limit: int = 500) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, an inactive or failing server, and lost connections or timeouts."""
    return isinstance(exc, (MisUnavailable, httpx.TransportError))


# --- pacing ----------------------------------------------------------------------------------


class RateLimiter:
    """Spaces requests at most ``rate`` per second (Wonde publishes no limit, so ours is configured).

    When requests queue, the one with the lowest ``priority`` goes next (ties in arrival order). The
    client gives each school its order of arrival as priority, so under the limit schools finish one
    after another instead of all at the end: each school's write then overlaps the next one's fetch,
    and an interrupted run has committed the most schools. Slots are kept on the schedule, so a busy
    event loop does not lower the rate. ``rate <= 0`` means unlimited.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._next = 0.0
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = 0
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, priority: int = 0) -> None:
        if not self.interval:
            return
        now = self._clock()
        if not self._queue and now >= self._next:
            self._next = now + self.interval
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arrivals += 1
        heapq.heappush(self._queue, (priority, self._arrivals, waiter))
        self._arm()
        await waiter

    def _arm(self) -> None:
        if self._timer is None and self._queue:
            delay = max(0.0, self._next - self._clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._release)

    def _release(self) -> None:
        self._timer = None
        while self._queue:
            _, _, waiter = heapq.heappop(self._queue)
            if not waiter.done():  # a cancelled request gives its turn away
                waiter.set_result(None)
                # The next slot counts from this one, not from now: a timer that fired late (the loop was
                # busy) is made up by the next request instead of slowing every later one. Never more
                # than one interval is made up, so at most two requests go back to back.
                self._next = max(self._next + self.interval, self._clock())
                break
        self._arm()


class Backoff:
    """tenacity wait: Retry-After when the server gave one, else capped exponential back-off with jitter."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, jitter: float = 0.5) -> None:
        self.initial, self.cap, self.jitter = initial, cap, jitter

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            return min(float(hinted), self.cap)
        base = min(self.cap, self.initial * 2.0 ** (state.attempt_number - 1))
        return min(self.cap, base + random.uniform(0, self.jitter * base))


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    school = state.kwargs.get("school") or "-"
    log.warning("Wonde request for school %s failed (%s); retry %d in %.1fs",
                school, _describe(exc), state.attempt_number, wait)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: the connection failed"
    return str(exc)


# --- the client ------------------------------------------------------------------------------


class WondeClient:
    """An async client for one Wonde app token, shared by every school it syncs.

    :param token: the app token (sent as a Bearer token, never logged).
    :param base_url: ``https://api.wonde.com/v1.0/`` or a regional domain; a loopback fake in tests.
    :param requests_per_second: the client-side rate limit over all schools (``0``: none).
    :param concurrency: requests in flight at once, over all schools.
    :param per_page: page size asked for (Wonde's maximum is probably 200).
    :param attempts: tries per request before the error is raised.
    :param wait: the tenacity wait between tries (tests pass zero).
    :param sleep: how to wait between tries (tests record instead of sleeping).
    """

    def __init__(
        self,
        token: SecretStr | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_second: float = 10.0,
        concurrency: int = 4,
        per_page: int = 200,
        attempts: int = 5,
        timeout: httpx.Timeout | None = None,
        wait: Callable[[RetryCallState], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._origin = _origin(self.base_url)
        self.per_page = per_page
        self.attempts = attempts
        self.wait = wait or Backoff()
        self._sleep = sleep
        self.limiter = RateLimiter(requests_per_second)
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._timeout = timeout or httpx.Timeout(30.0, connect=10.0)
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.requests = 0
        """HTTP requests sent (retries included), for the sync summary and the benchmark."""
        self.requests_by_school: Counter[str] = Counter()
        """The same, per school id."""
        self._priorities: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"WondeClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> WondeClient:
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {self._token.get_secret_value()}",
                "Accept": "application/json",
                "User-Agent": f"hv-connector/{__version__}",
            },
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- one request ---------------------------------------------------------------------------

    async def get(self, url: str, params: dict[str, Any] | None = None, *, school: str | None = None) -> Any:
        """GET ``url`` (relative to the base, or absolute on the Wonde host) and return its JSON, retrying."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            before_sleep=_log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(self._get_once, url, params, school=school)
        except httpx.TransportError as exc:
            raise MisUnavailable(
                f"could not reach Wonde at {self.base_url} for school {school or '-'} ({_describe(exc)}, "
                f"{self.attempts} tries): check `base_url` under [wonde] (HVC_WONDE__BASE_URL) and the network; "
                "the next sync will try again"
            ) from None

    async def _get_once(self, url: str, params: dict[str, Any] | None, *, school: str | None) -> Any:
        if self._http is None:
            raise RuntimeError("use WondeClient inside `async with`")
        await self.limiter.acquire(self._priorities.setdefault(school or "", len(self._priorities)))
        async with self._slots:
            self.requests += 1
            self.requests_by_school[school or ""] += 1
            response = await self._http.get(url, params=params)
        error = error_for(response, school)
        if error is not None:
            raise error
        try:
            return await asyncio.to_thread(response.json)  # a big page off the loop, whose timers pace requests
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise MisError(
                f"Wonde answered school {school or '-'}'s request with something that is not JSON ({kind}): "
                "a proxy or captive portal may be in the way; check the machine's network"
            ) from None

    # -- lists ---------------------------------------------------------------------------------

    async def pages(
        self,
        school: str,
        resource: str,
        *,
        since: datetime | None = None,
        include: Sequence[str] = (),
        params: dict[str, Any] | None = None,
    ) -> AsyncIterator[Page]:
        """Walk a school's list ``resource`` page by page, following ``next`` on the Wonde host only.

        :param since: ask only for records changed after this time (the sync cursor).
        :param include: relations to embed in each record.
        """
        first: dict[str, Any] = {"per_page": self.per_page, **(params or {})}
        if include:
            first["include"] = ",".join(include)
        if since is not None:
            first["updated_after"] = since.astimezone(timezone.utc).strftime(QUERY_TIME_FORMAT)
        url = f"schools/{quote(school, safe='')}/{resource}"
        pending: asyncio.Future[Any] | None = asyncio.ensure_future(self.get(url, first, school=school))
        seen: set[str] = set()
        try:
            while pending is not None:
                page = _page(await pending, school, resource)
                pending = None
                link = page.meta.pagination
                if link.more and link.next:
                    url = self._follow(link.next, school)
                    if url in seen:
                        raise MisError(f"Wonde sent school {school}'s {resource} round in a loop at {url}; "
                                       "sync stopped")
                    seen.add(url)
                    # Fetch the next page while the caller works on this one.
                    # ``next`` repeats the query; httpx would drop it if params were given.
                    pending = asyncio.ensure_future(self.get(url, None, school=school))
                yield page
        finally:
            if pending is not None:
                pending.cancel()
                if pending.done() and not pending.cancelled():
                    pending.exception()  # retrieved, so asyncio does not warn about it

    def _follow(self, link: str, school: str) -> str:
        absolute = str(httpx.URL(self.base_url).join(link))
        if _origin(absolute) != self._origin:
            raise MisError(
                f"Wonde's next page for school {school} points at another host ({_origin(absolute)}); "
                "not followed, because the token would go with it. Check [wonde] base_url"
            )
        return absolute

    def students(
        self, school: str, *, since: datetime | None = None, include: Sequence[str] = STUDENT_INCLUDES
    ) -> AsyncIterator[Page]:
        """The school's pupils with their background embedded (:data:`STUDENT_INCLUDES`)."""
        return self.pages(school, "students", since=since, include=include, params=CURSOR_PAGING)

    def deletions(self, school: str, *, since: datetime | None = None) -> AsyncIterator[Page]:
        """The school's deletions feed: records that left the MIS since ``since``."""
        return self.pages(school, "deletions", since=since, params=CURSOR_PAGING)

    async def school(self, school: str) -> dict[str, Any]:
        """One school as Wonde describes it (fails with :class:`MisAuthError` if it has not approved us)."""
        body = await self.get(f"schools/{quote(school, safe='')}", school=school)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise MisError(f"Wonde's answer for school {school} has no school in it")
        return data


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _page(body: Any, school: str, resource: str) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise MisError(f"Wonde's {resource} page for school {school} has no list of records; sync stopped")
    try:
        return Page.model_validate(body)
    except ValueError as exc:
        raise MisError(f"Wonde's {resource} page for school {school} is malformed: {exc}") from None
