"""The CPOMS client: one school's token, categories by name, incidents posted with an Idempotency-Key.

Errors come out as :mod:`hv_connector.errors` classes from one function,
:func:`~hv_connector.clients.cpoms.errors.error_for`; outages are retried with the same key, and after an
answer that may be lost CPOMS is asked by reference before anything is sent again. An incident it answers is
taken as ours only when we can tell: it carries our reference, or it carries none and CPOMS is known to filter
its look-up by reference; otherwise the record is sent again, a possible duplicate said plainly (``doubt``)
rather than a record lost.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Literal, TypeVar, overload

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from hv_connector.clients.cpoms.errors import CpomsRejected, CpomsUnavailable, error_for, is_transient, transport_error
from hv_connector.clients.cpoms.payloads import SOURCE_SYSTEM, Category, IncidentRequest, IncidentResult, Student
from hv_connector.clients.latency import Latency
from hv_connector.clients.ratelimit import RateLimiter
from hv_connector.clients.retry import Backoff, Sleep, retrying
from hv_connector.clients.tls import tls_context

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=30.0)
"""Explicit limits: a CPOMS that does not answer within these is treated as unavailable."""


PROBE_REFERENCE = "hv-connector:probe:no-such-record"
"""A reference no record of ours has (ours are visit ids, plus ``/concern``): what CPOMS answers for it says
whether its look-up by reference filters by the reference."""

_Model = TypeVar("_Model", bound=BaseModel)
_Result = TypeVar("_Result")


class CpomsClient:
    """One school's CPOMS: categories, pupils, incidents. Use as ``async with CpomsClient(...) as c``.

    :param base_url: e.g. ``http://127.0.0.1:8765/api/v1``.
    :param token: the school's bearer token.
    :param school_id: for messages.
    :param token_setting: the setting that holds the token, named in the 401 message.
    :param attempts: tries per request before :class:`CpomsUnavailable` surfaces.
    :param min_wait, max_wait: the back-off between tries (seconds); Retry-After wins when longer,
        up to ``max_retry_after`` (beyond it the record waits for a later push instead).
    :param per_second: the client-side rate limit for this token (``None``: no limit).
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        school_id: str,
        token_setting: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        attempts: int = 4,
        min_wait: float = 0.5,
        max_wait: float = 8.0,
        max_retry_after: float = 30.0,
        per_second: float | None = None,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.school_id = school_id
        self.token_setting = token_setting
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = Backoff(initial=min_wait, cap=max_wait)
        self._max_retry_after = max_retry_after
        self.requests_per_second = per_second
        self._limiter = RateLimiter(per_second or 0)
        self._latency = Latency()
        self._sleep = sleep
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._urls: dict[str, httpx.URL] = {}
        self._categories: list[Category] | None = None
        self._categories_lock = asyncio.Lock()
        self._filters: bool | None = None
        """Whether CPOMS's look-up by reference filters by it (``None``: not asked yet)."""
        self._probe_lock = asyncio.Lock()
        self._unsure: dict[str, str] = {}
        """Record id → why a look-up could not tell whether CPOMS has it, until the record is sent again."""
        self.statuses: dict[int, int] = {}
        """How many responses of each HTTP status this client saw (the bench counts 429s)."""

    @property
    def latency(self) -> float | None:
        """Seconds CPOMS took to answer lately (a moving average; ``None`` before its first answer)."""
        return self._latency.seconds

    async def __aenter__(self) -> CpomsClient:
        # httpx loads anyio's asyncio backend on its first request (~0.2 s of imports): load it on opening,
        # so a watch that opens its sinks at start (Pusher.open_each) sends its first concern without it.
        importlib.import_module("anyio._backends._asyncio")
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout,
            transport=self._transport,
            verify=tls_context(),
            headers={"Accept": "application/json", "User-Agent": "hv-connector",
                     "Authorization": f"Bearer {self._token.get_secret_value()}"},
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- requests --

    async def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self._retried(lambda _maybe_landed: self._once(method, path, params=params))

    async def _retried(self, once: Callable[[bool], Awaitable[_Result]]) -> _Result:
        """Run ``once`` until it answers or the tries run out; it is told whether an earlier try may have landed."""
        unknown = False
        tries = retrying(remote="CPOMS", school=self.school_id, attempts=self._attempts, transient=is_transient,
                         wait=self._backoff, max_retry_after=self._max_retry_after, sleep=self._sleep)
        try:
            async for attempt in tries:
                with attempt:
                    try:
                        return await once(unknown)
                    except CpomsUnavailable as exc:
                        unknown = unknown or exc.outcome_unknown
                        raise
        except CpomsUnavailable as exc:
            # Any try that may have landed makes the whole call's outcome unknown.
            exc.outcome_unknown = unknown
            raise
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _once(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: bytes | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        if self._http is None:
            raise RuntimeError("use CpomsClient inside `async with`")
        await self._limiter.acquire()
        headers: dict[str, str] = {}  # the token is among the client's own headers, set once
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        sent = time.monotonic()
        try:
            response = await self._http.request(method, self._url(path), params=params, content=body,
                                                headers=headers or None)
        except httpx.TransportError as exc:
            raise transport_error(exc, method, self.school_id) from None
        self._latency.observe(time.monotonic() - sent)
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.is_success:
            return response
        raise error_for(response, school_id=self.school_id, token_setting=self.token_setting)

    def _url(self, path: str) -> httpx.URL:
        """The full URL of an API path, parsed once per client (httpx parses a relative one on every request)."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base_url + path)
        return url

    @overload
    def _parse(self, response: httpx.Response, model: type[_Model], many: Literal[False] = False) -> _Model: ...

    @overload
    def _parse(self, response: httpx.Response, model: type[_Model], many: Literal[True]) -> list[_Model]: ...

    def _parse(self, response: httpx.Response, model: type[_Model], many: bool = False) -> _Model | list[_Model]:
        try:
            data = response.json()
            if many:
                return [model.model_validate(row) for row in data["data"]]
            return model.model_validate(data)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise CpomsUnavailable(
                f"CPOMS for school {self.school_id!r} sent an answer we cannot read "
                f"({response.request.method} {response.request.url.path}: {type(exc).__name__})",
                outcome_unknown=response.request.method == "POST",
            ) from None

    # -- the contract --

    async def categories(self) -> list[Category]:
        """The school's categories, fetched once per client (one run of push)."""
        async with self._categories_lock:
            if self._categories is None:
                self._categories = self._parse(await self._request("GET", "/categories"), Category, many=True)
        return self._categories

    async def category_ids(self, names: list[str] | tuple[str, ...]) -> list[int]:
        """Map category names (from the policy plugin) to this school's CPOMS ids, by name, one id per name.

        Matching ignores case and surrounding spaces; a name CPOMS does not
        have, or has disabled, or does not let us add to, is a refusal that
        says which name and how to fix it.
        """
        by_name: dict[str, Category] = {}
        for listed in await self.categories():
            by_name.setdefault(listed.name.strip().casefold(), listed)
        ids: list[int] = []
        for name in names:
            category = by_name.get(name.strip().casefold())
            if category is None:
                known = ", ".join(sorted(c.name for c in by_name.values() if c.active and c.can_add))
                raise CpomsRejected(
                    f"school {self.school_id!r} has no CPOMS category named {name!r} (its categories: {known}). "
                    f"Create it in CPOMS, or map the name under [schools.{self.school_id}.sink.category_map] "
                    f'in hvc.toml, e.g. "{name}" = "<a name above>"; then `hvc outbox retry ID`',
                    [{"field": "category_ids", "issue": "unknown_category", "name": name}],
                )
            if not (category.active and category.can_add):
                raise CpomsRejected(
                    f"school {self.school_id}'s CPOMS category {category.name!r} is "
                    f"{'disabled' if not category.active else 'closed to hv-connector'}: ask the CPOMS admin "
                    "to enable it for the integration, or map the name to another category in hvc.toml",
                    [{"field": "category_ids", "issue": "category_disabled", "name": name}],
                )
            ids.append(category.id)
        return ids

    async def find_student(self, *, upn: str | None = None, mis_id: str | None = None) -> Student | None:
        """The pupil matched by UPN, else by MIS id; ``None`` when neither matches exactly one."""
        for field, value in (("upn", upn), ("mis_id", mis_id)):
            if not value:
                continue
            rows = self._parse(await self._request("GET", "/students", params={field: value}), Student, many=True)
            if len(rows) == 1:
                return rows[0]
        return None

    async def find_incident(self, record_id: str, revision: int | None = None) -> IncidentResult | None:
        """Our record in CPOMS, found by its reference (``source.record_id``, and ``revision`` when given), or ``None``.

        ``None`` also when CPOMS answers incidents that cannot be told to be ours or not (:meth:`_look_up`): the
        record is then sent again, and that send's answer says it may be there twice (``doubt``).
        """
        return await self._retried(lambda _maybe_landed: self._look_up(record_id, revision))

    async def _by_reference(self, record_id: str) -> list[IncidentResult]:
        """One ``GET /incidents`` by reference, with no retries of its own: what CPOMS answers, unchecked."""
        params = {"source_system": SOURCE_SYSTEM, "source_record_id": record_id}
        return self._parse(await self._once("GET", "/incidents", params=params), IncidentResult, many=True)

    async def _look_up(self, record_id: str, revision: int | None) -> IncidentResult | None:
        """Our record among the incidents CPOMS answers by reference, taken only when we can tell it is ours.

        A row that carries a reference is ours when the reference is this record's (and revision's; one that
        names the record without a revision, only for a first revision: :func:`_names_this`). A row that
        carries none is ours only by the receiver's filter, so it is trusted only once the receiver is known to
        filter (:meth:`_filters_by_reference`): one that ignores the reference answers other records' incidents
        too, and taking one of them as ours would mark our record sent when it never arrived. The filter is by
        record, not revision, so a corrected record (revision 2 on) is never found by it: the row could be the
        revision it corrects. When we cannot tell, the answer is ``None`` (send again: a possible duplicate rather
        than a lost record) and the record is remembered, so its next send's answer carries the reason (``doubt``).
        """
        found = await self._by_reference(record_id)
        said = [_names_this(i, record_id, revision) for i in found]
        if True in said:
            return found[said.index(True)]
        if None not in said:
            return None
        corrected = _corrects(revision)
        if not corrected and await self._filters_by_reference():
            return found[said.index(None)]
        why = (f"it answers incidents for this record that carry no revision, and this is revision {revision}: one "
               "of them may be an earlier revision" if corrected else
               "it ignores the reference: asked for one no record has, it answers incidents all the same; and the "
               "incidents it answers carry no reference of ours")
        self._unsure[record_id] = (
            f"CPOMS for school {self.school_id!r} may now hold record {record_id!r} twice: an earlier send's answer "
            f"was lost, and its look-up by reference cannot say whether that send was stored ({why}), so the "
            "record was sent again rather than taken as there. Look in CPOMS for a second copy of it"
        )
        return None

    async def _filters_by_reference(self) -> bool:
        """Whether CPOMS's look-up by reference honours the reference, asked once per client (one run of push).

        It is asked for :data:`PROBE_REFERENCE`, which no record of ours has: a receiver that filters answers
        nothing, one that ignores the query answers incidents.
        """
        async with self._probe_lock:
            if self._filters is None:
                self._filters = not await self._by_reference(PROBE_REFERENCE)
        return self._filters

    async def create_incident(self, request: IncidentRequest, idempotency_key: str) -> IncidentResult:
        """Post one incident, asking CPOMS by reference before any POST that follows a possibly lost answer.

        :returns: CPOMS's answer; ``replayed`` is True when the record was already there (a replayed
            key, or found by reference after a lost answer); ``doubt`` says why it may now be there twice (a
            look-up by reference, in this call or an earlier :meth:`find_incident`, could not tell).
        """
        source, body = request.source, request.wire()

        async def once(maybe_landed: bool) -> IncidentResult:
            if maybe_landed:  # a failed look-up is this try's failure: the next try asks again
                found = await self._look_up(source.record_id, source.revision)
                if found is not None:
                    return found.model_copy(update={"replayed": True})
            response = await self._once("POST", "/incidents", body=body, key=idempotency_key)
            replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
            doubt = self._unsure.pop(source.record_id, None)
            return self._parse(response, IncidentResult).model_copy(
                update={"replayed": replayed, "doubt": None if replayed else doubt})

        return await self._retried(once)


def _names_this(incident: IncidentResult, record_id: str, revision: int | None) -> bool | None:
    """Whether the incident's own reference says it is this record (and revision); ``None`` when it cannot say.

    A reference naming this record but no revision says it for a first revision (there is none before it to be
    mistaken for), not for a correction (it may be the revision corrected).
    """
    source = incident.source
    if source is None:
        return None
    if source.system not in (None, SOURCE_SYSTEM) or source.record_id not in (None, record_id):
        return False
    if revision is not None and source.revision not in (None, revision):
        return False
    if source.record_id is None or source.revision is None and _corrects(revision):
        return None
    return True


def _corrects(revision: int | None) -> bool:
    """Whether ``revision`` corrects an earlier one (revision 2 on): a row with no revision may be the earlier one."""
    return revision is not None and revision > 1
