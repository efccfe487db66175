"""The Wonde client: one app token, every school it reaches, lists walked page by page.

Errors come out as :mod:`hv_connector.errors` classes from one function,
:func:`~hv_connector.clients.wonde.errors.error_for`; the transient ones (429, 423, 5xx, lost
connections) are retried with capped exponential back-off and jitter, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
from pydantic import SecretStr

from hv_connector import __version__
from hv_connector.clients.ratelimit import RateLimiter
from hv_connector.clients.retry import Sleep, Wait, describe, retrying
from hv_connector.clients.tls import tls_context
from hv_connector.clients.wonde.errors import error_for, is_transient, unfollowable_link
from hv_connector.clients.wonde.payloads import Page, Permission
from hv_connector.errors import MisError, MisUnavailable
from hv_connector.text import neutralise

DEFAULT_BASE_URL = "https://api.wonde.com/v1.0/"
QUERY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""How Wonde's ``updated_after`` filter wants a time (read as UTC)."""

STUDENT_INCLUDES: tuple[str, ...] = (
    "contact_details",
    "contacts",
    "contacts.contact_details",
    "medical_conditions",
    "medical_conditions.notes",
    "medical_notes",
    "sen_needs",
    "attendance_summary",
    "extended_details",
    "education_details",
    "child_protection_plan_date_ranges",
    "in_care_date_ranges",
)
"""Everything a pupil briefing needs, fetched with the pupil in one request per page."""

INLINE_JSON_BYTES = 128 * 1024
"""A body up to this size (a page of register marks is about 50 KB) is decoded on the event loop, in well under a
millisecond: handing it to a worker thread would cost more CPU than decoding it. A bigger one (a page of pupils
with their includes is about a megabyte) is decoded in a worker thread, so the loop's timers keep time."""

CURSOR_PAGING = {"cursor": "true"}
"""Ask for cursor paging: pages stay stable while the MIS changes mid-walk (numbered pages shift, so a
record could be skipped). Where cursor mode is not offered the ``next`` links number pages as usual, and
they are followed as given either way."""


class WondeClient:
    """An async client for one Wonde app token, shared by every school it syncs.

    :param token: the app token (sent as a Bearer token, never logged).
    :param base_url: ``https://api.wonde.com/v1.0/`` or a regional domain; a loopback fake in tests.
    :param requests_per_second: the client-side rate limit over all schools (``0``: none).
    :param concurrency: requests in flight at once, over all schools.
    :param per_page: page size asked for (Wonde's maximum is probably 200).
    :param attempts: tries per request before the error is raised.
    :param wait: the tenacity wait between tries (default: :class:`~hv_connector.clients.retry.Backoff`;
        tests pass zero).
    :param max_retry_after: the longest Retry-After waited out; beyond it the school's sync fails and the
        next sync tries again.
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
        wait: Wait | None = None,
        max_retry_after: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._origin = _origin(self.base_url)
        self.per_page = per_page
        self.attempts = attempts
        self.wait = wait
        self.max_retry_after = max_retry_after
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
            verify=tls_context(),
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

    async def get(self, url: str | httpx.URL, params: dict[str, Any] | None = None, *, school: str | None = None) -> Any:
        """GET ``url`` (relative to the base, or absolute on the Wonde host) and return its JSON, retrying."""
        tries = retrying(remote="Wonde", school=school, attempts=self.attempts, transient=is_transient,
                         wait=self.wait, max_retry_after=self.max_retry_after, sleep=self._sleep)
        try:
            return await tries(self._get_once, url, params, school=school)
        except httpx.TransportError as exc:
            raise MisUnavailable(
                f"could not reach Wonde at {self.base_url} for school {school or '-'} ({describe(exc)}, "
                f"{self.attempts} tries): check `base_url` under [wonde] (HVC_WONDE__BASE_URL) and the network; "
                "the next sync will try again"
            ) from None

    async def _get_once(self, url: str | httpx.URL, params: dict[str, Any] | None, *, school: str | None) -> Any:
        if self._http is None:
            raise RuntimeError("use WondeClient inside `async with`")
        await self.limiter.acquire(self._priorities.setdefault(school or "", len(self._priorities)))
        async with self._slots:
            self.requests += 1
            self.requests_by_school[school or ""] += 1
            async with self._http.stream("GET", url, params=params) as response:
                if response.is_success:
                    # The page's bytes are kept here, not in the response: httpx holds a response in a reference
                    # cycle, so a body kept there would wait for the cyclic collector, a megabyte a page.
                    content = b"".join([part async for part in response.aiter_bytes()])
                else:
                    content = await response.aread()  # an error's body, for its message
        error = error_for(response, school)
        if error is not None:
            raise error
        try:
            if len(content) <= INLINE_JSON_BYTES:
                return decode_json(content)
            # A big page off the loop, whose timers pace requests.
            return await asyncio.to_thread(decode_json, content)
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
        url: str | httpx.URL = f"schools/{quote(school, safe='')}/{resource}"
        pending: asyncio.Future[Any] | None = asyncio.ensure_future(self.get(url, first, school=school))
        asked: dict[str, Any] | None = first
        seen: set[str] = set()
        try:
            while pending is not None:
                page = _page(await pending, school, resource)
                pending = None
                if lacking(page.records, include):
                    page = await self._ask_again(url, asked, include, school, resource)
                link = page.meta.pagination
                if link.more and link.next:
                    url, asked = self._follow(link.next, school, include), None
                    if str(url) in seen:
                        raise MisError(f"Wonde sent school {school}'s {resource} round in a loop at "
                                       f"{neutralise(str(url))}; sync stopped")
                    seen.add(str(url))
                    # Fetch the next page while the caller works on this one.
                    # ``next`` repeats the query; httpx would drop it if params were given.
                    pending = asyncio.ensure_future(self.get(url, None, school=school))
                yield page
                del page  # not held while the next one is awaited: one school holds one page, not two
        finally:
            if pending is not None:
                pending.cancel()
                if pending.done() and not pending.cancelled():
                    pending.exception()  # retrieved, so asyncio does not warn about it

    async def _ask_again(self, url: str | httpx.URL, params: dict[str, Any] | None, include: Sequence[str], school: str,
                         resource: str) -> Page:
        """A page that lacked includes asked for, asked for once more with them; refused if still lacking.

        The school's sync then fails before anything of it is written, so no pupil loses rows that were
        simply not sent."""
        again = dict(params) if params is not None else None
        target = url
        if again is not None:
            again["include"] = ",".join(include)
        else:
            target = str(httpx.URL(url).copy_set_param("include", ",".join(include)))
        page = _page(await self.get(target, again, school=school), school, resource)
        missing = lacking(page.records, include)
        if missing:
            raise MisError(
                f"Wonde's {resource} page for school {school} lacks {', '.join(missing)}, asked for with "
                f"include= (also when asked again): nothing of school {school} was written. The next sync "
                "tries again; if it keeps failing, ask Wonde whether the school's feed serves them"
            )
        return page

    def _follow(self, link: str, school: str, include: Sequence[str] = ()) -> httpx.URL:
        """The absolute ``next`` URL, on the Wonde host only, with the includes put back if it dropped them.

        Parsed once and handed to httpx as a URL, which it does not parse again (a ``next`` link, includes
        and cursor and all, is long, and there is one a page)."""
        try:
            absolute = httpx.URL(link)
            if absolute.is_relative_url:
                absolute = httpx.URL(self.base_url).join(absolute)
        except httpx.InvalidURL as exc:
            raise unfollowable_link(link, school, str(exc)) from None
        if _origin(str(absolute)) != self._origin:
            raise MisError(
                f"Wonde's next page for school {school} points at another host ({neutralise(_origin(str(absolute)))}); "
                "not followed, because the token would go with it. Check [wonde] base_url"
            )
        if include and "include" not in absolute.params:
            absolute = absolute.copy_set_param("include", ",".join(include))
        return absolute

    def students(
        self, school: str, *, since: datetime | None = None, include: Sequence[str] = STUDENT_INCLUDES
    ) -> AsyncIterator[Page]:
        """The school's pupils with their background embedded (:data:`STUDENT_INCLUDES`)."""
        return self.pages(school, "students", since=since, include=include, params=CURSOR_PAGING)

    def deletions(self, school: str, *, since: datetime | None = None) -> AsyncIterator[Page]:
        """The school's deletions feed: records that left the MIS since ``since``."""
        return self.pages(school, "deletions", since=since, params=CURSOR_PAGING)

    async def permissions(self, school: str) -> list[Permission] | None:
        """The data scopes the school granted the app (``/meta/schools/{id}/permissions``).

        ``None`` when Wonde does not say (the endpoint fails or answers nothing readable): the sync then
        cannot tell "withheld" from "none" by scope, only by fields that come back null.
        """
        try:
            body = await self.get(f"meta/schools/{quote(school, safe='')}/permissions", school=school)
        except MisError:
            return None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            return None
        read = []
        for item in data:
            try:
                read.append(Permission.model_validate(item))
            except ValueError:
                continue
        return read or None

    async def school(self, school: str) -> dict[str, Any]:
        """One school as Wonde describes it (fails with :class:`MisAuthError` if it has not approved us)."""
        body = await self.get(f"schools/{quote(school, safe='')}", school=school)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise MisError(f"Wonde's answer for school {school} has no school in it")
        return data


def decode_json(content: bytes) -> Any:
    """A response body's JSON, as :func:`json.loads` reads it (a :class:`json.JSONDecodeError` or
    :class:`UnicodeDecodeError` if it is none).

    orjson decodes it first: a few times faster on pages of megabytes. What orjson refuses and :mod:`json`
    reads (a lone surrogate escape in one name, a number too big for a float) goes to :mod:`json`, so it stays
    one record's problem, quarantined by the adapter, instead of failing the school's whole page.
    """
    paused = gc.isenabled()
    if paused:  # a page's dicts and lists hold no cycles: tens of thousands of them need no collector passes
        gc.disable()
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
    finally:
        if paused:
            gc.enable()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def lacking(records: list[Any], include: Sequence[str]) -> list[str]:
    """The includes asked for that some record of a page does not carry (an include's key absent; a null
    value is a scope not granted, and counts as carried).

    A record without even its own ``id`` and ``updated_at`` is broken whole: it is left to the caller to
    quarantine, not counted against the page."""
    if not include:  # nothing asked for, nothing lacking (register pages: a hundred a school)
        return []
    whole = [record for record in records if isinstance(record, dict) and "id" in record and "updated_at" in record]
    tops = {name.partition(".")[0] for name in include}
    carried = all(tops <= record.keys() for record in whole)  # the common case, one set test a record
    missing = []
    for name in include:
        top, _, nested = name.partition(".")
        if not carried and any(top not in record for record in whole) or nested and any(
                isinstance(item, dict) and nested not in item for record in whole for item in _items(record[top])):
            missing.append(name)
    return missing


def _items(relation: Any) -> list[Any]:
    data = relation.get("data") if isinstance(relation, dict) else None
    return data if isinstance(data, list) else [data] if isinstance(data, dict) else []


def _page(body: Any, school: str, resource: str) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise MisError(f"Wonde's {resource} page for school {school} has no list of records; sync stopped")
    try:
        return Page.model_validate(body)
    except ValueError as exc:
        raise MisError(f"Wonde's {resource} page for school {school} is malformed: {exc}") from None
