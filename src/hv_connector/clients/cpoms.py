"""CPOMS over HTTP, to the contract in ``shared/apis/cpoms.md`` §4.

There is no public CPOMS API; this client speaks the contract our fake server
(``fixtures/cpoms_server.py``) implements, so a real partner adapter can later
replace it behind :class:`hv_connector.outbox.queue.ReportSink`.

::

    CpomsClient.create_incident(request, key)
      ├── 201 (or a replay of one)              → IncidentResult
      ├── safe to send again: 429 (after Retry-After), 409 idempotency_key_in_use,
      │   a refused connection or a connect timeout (nothing was sent)
      │        → retried (:mod:`hv_connector.clients.retry`: back-off with jitter,
      │          Retry-After honoured, each retry logged) with the SAME Idempotency-Key
      ├── the answer may be lost: 5xx, a read timeout, a dropped connection
      │        → the next try first asks CPOMS by reference (found: already there);
      │          it POSTs again only when CPOMS says the record is not there
      ├── tries used up → CpomsUnavailable
      │          (outcome_unknown=True when a POST may have reached CPOMS)
      └── refusal: 400/401/403/404/409 reused/413/415/422 → CpomsRejected(details)

Asking first, rather than trusting ``Idempotency-Key``: nothing public says CPOMS
honours the header (``shared/apis/cpoms.md`` §0), and a receiver that ignores it
stores a second record for every POST whose answer was lost.

One :func:`error_for` maps every non-2xx response to its exception. The token
travels only in the ``Authorization`` header: it is never logged, and no
message or exception carries it.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from hv_connector.clients.ratelimit import RateLimiter
from hv_connector.clients.retry import Backoff, Sleep, retry_after, retrying
from hv_connector.errors import CpomsRejected, CpomsUnavailable


@functools.cache
def _tls() -> ssl.SSLContext:
    """One certificate store for every client (loading it costs tens of milliseconds each time)."""
    return httpx.create_ssl_context()

SOURCE_SYSTEM = "hv-connector"
"""Our name in every incident's ``source.system``: find-by-reference asks for it."""

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=30.0)
"""Explicit limits: a CPOMS that does not answer within these is treated as unavailable."""


# --- payloads in (extra="ignore": CPOMS may add fields) ---------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Category(_In):
    """One of the school's CPOMS categories (``GET /categories``)."""

    id: int
    name: str
    parent_id: int | None = None
    colour: str | None = None
    active: bool = True
    can_add: bool = True


class Student(_In):
    """A pupil as CPOMS knows them (``GET /students``)."""

    id: int
    upn: str | None = None
    mis_id: str | None = None
    admission_number: str | None = None
    forename: str = ""
    surname: str = ""
    date_of_birth: date | None = None
    year_group: str | None = None
    on_roll: bool = True


class ErrorDetail(_In):
    field: str | None = None
    issue: str | None = None


class ErrorBody(_In):
    """The ``error`` object of every non-2xx response."""

    code: str = "unknown"
    message: str = ""
    details: list[ErrorDetail] = []
    request_id: str | None = None


class SourceIn(_In):
    """Our reference on an incident CPOMS returns."""

    system: str | None = None
    record_id: str | None = None
    revision: int | None = None


class Alert(_In):
    staff_email: str
    category_names: list[str] = []


class IncidentResult(_In):
    """What CPOMS says about an incident: the 201 answer, or one found by reference."""

    id: int
    status: str = "recorded"
    student_id: int | None = None
    category_ids: list[int] = []
    created_at: datetime | None = None
    alerts: list[Alert] = []
    source: SourceIn | None = None
    """Our reference, as CPOMS stored it (lookups by reference return it)."""
    replayed: bool = False
    """True when the record was already there: CPOMS replayed an earlier answer for the same Idempotency-Key,
    or we found it by reference after an answer was lost."""


# --- payloads out (extra="forbid": we send exactly the contract) ------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudentRef(_Out):
    """Which pupil: CPOMS matches the UPN first, then the MIS id."""

    upn: str | None = None
    mis_id: str | None = None
    cpoms_id: int | None = None


class StaffRef(_Out):
    email: str


class IncidentAction(_Out):
    text: str = Field(min_length=1)
    taken_at: AwareDatetime | None = None
    by: StaffRef | None = None


class PresentPerson(_Out):
    name: str
    relationship: str = ""


VisitType = Literal["planned", "welfare_check", "attendance", "cme_enquiry", "emergency"]
VisitOutcomeCode = Literal["child_seen", "child_seen_alone", "parent_seen_child_not_seen", "no_answer", "refused_entry"]


class HomeVisitBlock(_Out):
    """The structured home-visit fields (``kind=home_visit`` only)."""

    visit_type: VisitType = "planned"
    visitors: list[StaffRef] = []
    outcome: VisitOutcomeCode | None = None
    persons_present: list[PresentPerson] = []
    home_conditions: str = ""
    voice_of_child: str = ""
    voice_of_parent: str = ""
    concerns: str = ""
    next_steps: str = ""
    follow_up_on: date | None = None


class Source(_Out):
    system: str = SOURCE_SYSTEM
    record_id: str = Field(min_length=1)
    revision: int = Field(ge=1)


class IncidentRequest(_Out):
    """The body of ``POST /incidents``."""

    kind: Literal["home_visit", "concern"]
    student: StudentRef
    linked_students: list[StudentRef] = []
    category_ids: list[int] = Field(min_length=1, max_length=3)
    occurred_at: AwareDatetime
    location: str | None = None
    description: str = Field(min_length=1, max_length=20000)
    reported_by: StaffRef | None = None
    alert_staff: list[StaffRef] = []
    actions: list[IncidentAction] = []
    home_visit: HomeVisitBlock | None = None
    source: Source
    on_unmatched_student: Literal["reject", "tray"] = "reject"

    def wire(self) -> dict[str, Any]:
        """The JSON body as sent (``None`` fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


# --- errors ----------------------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


def _error_body(response: httpx.Response) -> ErrorBody:
    try:
        return ErrorBody.model_validate(response.json().get("error") or {})
    except (ValueError, AttributeError, ValidationError):
        return ErrorBody(message=response.text[:200])


def error_for(response: httpx.Response, *, school_id: str, token_setting: str) -> CpomsRejected | CpomsUnavailable:
    """The exception for a non-2xx CPOMS response: the one place status becomes a class.

    Refusals (:class:`CpomsRejected`) are parked and never resent as they are;
    outages (:class:`CpomsUnavailable`) are retried with the same key.
    """
    body = _error_body(response)
    status = response.status_code
    where = f"CPOMS for school {school_id!r}"
    ref = f" (request {body.request_id})" if body.request_id else ""
    if status in _TRANSIENT_STATUS or (status == 409 and body.code == "idempotency_key_in_use"):
        why = "is rate-limiting us" if status == 429 else (
            "is still processing the same record" if status == 409 else "is unavailable")
        # A 5xx after our body went out may still have been stored by CPOMS.
        return CpomsUnavailable(
            f"{where} {why} ({status} {body.code}){ref}; the record stays in the outbox and is retried",
            retry_after=retry_after(response),
            outcome_unknown=status >= 500 and response.request.method == "POST",
        )
    details = [d.model_dump(exclude_none=True) for d in body.details]
    said = body.message.strip().rstrip(".")  # our sentence goes on after CPOMS's
    if status == 401:
        return CpomsRejected(
            f"{where} refused our token (401 {body.code}){ref}: check the token in {token_setting} "
            "(`hvc config check` names it) and that CPOMS has enabled the integration for this school",
            details,
        )
    if status == 403:
        return CpomsRejected(
            f"{where} forbids this (403 {body.code}){ref}: {said or 'the token lacks permission'}. "
            "Ask the school's CPOMS admin to allow hv-connector to add incidents in these categories",
            details,
        )
    shown = "; ".join(f"{d.get('field', '?')}: {d.get('issue', '?')}" for d in details)
    issues = {body.code, *(str(d.get("issue")) for d in details)}
    hint = next((text for issue, text in _HINTS.items() if issue in issues), _HINTS["default"])
    return CpomsRejected(
        f"{where} refused the record ({status} {body.code}){ref}: {said or 'no reason given'}"
        + (f" [{shown}]" if shown else "") + f". {hint}",
        details,
    )


_HINTS = {
    "student_not_found": "Check the pupil is on roll in CPOMS and that their UPN and MIS id are right in the MIS "
                         "(`hvc sync`), then `hvc outbox retry ID`",
    "student_ambiguous": "The UPN and MIS id point at different CPOMS pupils: correct the pupil in the MIS, then "
                         "`hvc outbox retry ID`",
    "unknown_category": "Map the category under [schools.ID.cpoms.category_map] in hvc.toml, then `hvc outbox retry ID`",
    "category_disabled": "Ask the CPOMS admin to enable the category, or map another under "
                         "[schools.ID.cpoms.category_map], then `hvc outbox retry ID`",
    "staff_not_found": "A visiting staff member's e-mail is not a CPOMS user: correct it in the staff directory, "
                       "then `hvc outbox retry ID`",
    "default": "Correct the report (`hvc outbox show ID --json`, edit the payload) and "
               "`hvc outbox retry ID --fixed FILE`",
}
"""What to do about a refusal, by CPOMS's code or a detail's issue."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying again (with the same Idempotency-Key) may succeed."""
    return isinstance(exc, CpomsUnavailable)


def _transport_error(exc: httpx.TransportError, method: str, school_id: str) -> CpomsUnavailable:
    # Connect failures and pool timeouts happen before anything was sent; a read
    # timeout or a connection dropped mid-exchange may follow CPOMS storing it.
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = type(exc).__name__
    return CpomsUnavailable(
        f"CPOMS for school {school_id!r} did not answer ({kind})"
        + ("; it may have received the record, so we ask before sending again" if sent and method == "POST" else ""),
        outcome_unknown=sent and method == "POST",
    )


# --- the client ------------------------------------------------------------------------------

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
        self._limiter = RateLimiter(per_second or 0)
        self._sleep = sleep
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._categories: list[Category] | None = None
        self._categories_lock = asyncio.Lock()
        self.statuses: dict[int, int] = {}
        """How many responses of each HTTP status this client saw (the bench counts 429s)."""

    async def __aenter__(self) -> CpomsClient:
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout,
            transport=self._transport,
            verify=_tls(),
            headers={"Accept": "application/json", "User-Agent": "hv-connector"},
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
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None, key: str | None = None
    ) -> httpx.Response:
        return await self._retried(lambda _maybe_landed: self._once(method, path, params=params, json=json, key=key))

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
        self, method: str, path: str, *, params: dict[str, str] | None, json: Any, key: str | None
    ) -> httpx.Response:
        if self._http is None:
            raise RuntimeError("use CpomsClient inside `async with`")
        await self._limiter.acquire()
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            response = await self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TransportError as exc:
            raise _transport_error(exc, method, self.school_id) from None
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.is_success:
            return response
        raise error_for(response, school_id=self.school_id, token_setting=self.token_setting)

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
                    f"Create it in CPOMS, or map the name under [schools.{self.school_id}.cpoms.category_map] "
                    f'in hvc.toml, e.g. "{name}" = "<a name above>"; then `hvc outbox retry ID`',
                    [{"field": "category_ids", "issue": "unknown_category", "name": name}],
                )
            if not (category.active and category.can_add):
                raise CpomsRejected(
                    f"school {self.school_id!r}'s CPOMS category {category.name!r} is "
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
        """Our record in CPOMS, found by its reference (``source.record_id``, and ``revision`` when given), or ``None``."""
        return await self._retried(lambda _maybe_landed: self._look_up(record_id, revision))

    async def _look_up(self, record_id: str, revision: int | None) -> IncidentResult | None:
        """One ``GET /incidents`` by reference, with no retries of its own."""
        params = {"source_system": SOURCE_SYSTEM, "source_record_id": record_id}
        found = self._parse(await self._once("GET", "/incidents", params=params, json=None, key=None),
                            IncidentResult, many=True)
        if revision is not None:
            found = [i for i in found if i.source is None or i.source.revision == revision]
        return found[0] if found else None

    async def create_incident(self, request: IncidentRequest, idempotency_key: str) -> IncidentResult:
        """Post one incident, asking CPOMS by reference before any POST that follows a possibly lost answer.

        :returns: CPOMS's answer; ``replayed`` is True when the record was already there (a replayed
            key, or found by reference after a lost answer).
        """
        source = request.source

        async def once(maybe_landed: bool) -> IncidentResult:
            if maybe_landed:  # a failed look-up is this try's failure: the next try asks again
                found = await self._look_up(source.record_id, source.revision)
                if found is not None:
                    return found.model_copy(update={"replayed": True})
            response = await self._once("POST", "/incidents", params=None, json=request.wire(), key=idempotency_key)
            replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
            return self._parse(response, IncidentResult).model_copy(update={"replayed": replayed})

        return await self._retried(once)

