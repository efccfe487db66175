"""The built-in Wonde MIS adapter: Wonde's payloads in, normalised pupil records out.

Registered through the ``mis_adapters`` hook (by :mod:`hv_connector.builtin.extensions`) under the name ``wonde``, as any
other adapter would be. Every school of one run shares one
:class:`~hv_connector.clients.wonde.client.WondeClient` (the token is the app's, so
its rate limit and concurrency bound cover all schools at once).

Each record is validated on its own: :func:`student_item` and
:func:`deletion_item` turn a raw record into a normalised one, or into a
:class:`~hv_connector.sync.records.Rejected` that names the fault. They never
raise, whatever the MIS sends.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from hv_connector import humanize
from hv_connector.builtin.wonde_register import register_pages
from hv_connector.clients.wonde.client import WondeClient
from hv_connector.clients.wonde.payloads import (
    MISSING,
    AttendanceSummary,
    Contact,
    ContactDetails,
    DateRange,
    Deletion,
    EducationDetails,
    MedicalCondition,
    MedicalNote,
    Permission,
    SenNeed,
    Student,
    address_text,
    parse_flag,
    unwrap,
)
from hv_connector.clock import clock_from_environment, school_today
from hv_connector.config.checks import Problem
from hv_connector.errors import ConfigError
from hv_connector.sync.attendance import MARKS, MarkItem, SessionMark
from hv_connector.sync.cursors import TimeCursor
from hv_connector.sync.records import (
    AlertRecord,
    AttendanceRecord,
    ContactRecord,
    Departure,
    DepartureItem,
    Gap,
    MedicalRecord,
    PupilItem,
    PupilRecord,
    Rejected,
    SenRecord,
)
from hv_connector.sync.store import DEPARTURES, PUPILS

STUDENTS = "students"
DELETIONS = "deletions"

NOT_IN_FEED = "not available from the MIS — check with the DSL"
"""What the briefing says of what Wonde cannot carry: court-order terms, no-contact orders, child in need,
young carer."""

SEN_STATUS = {"K": "SEN support (K)", "E": "Education, health and care plan (E)"}
"""``extended_details.sen_status`` codes that mean a need (``N`` is none)."""

SECTION_OF: dict[str, str] = {
    "contact_details": "address", "contacts": "contacts", "medical_conditions": "medical",
    "medical_notes": "medical", "sen_needs": "sen", "attendance_summary": "attendance",
    "extended_details": "alerts", "child_protection_plan_date_ranges": "alerts", "in_care_date_ranges": "alerts",
    "education_details": "education",
}
"""Each include the adapter reads → the briefing section a gap in it leaves unknown."""

SCOPE_WORDS: dict[str, tuple[str, ...]] = {
    "medical": ("medical", "medical_condition", "medical_note"),
    "sen": ("sen", "special educational", "sen_need"),
    "contacts": ("contact",),
    "attendance": ("attendance", "attendance_summary"),
}
"""Words that name a section in Wonde's permission scopes (``identity``, ``name`` or ``group``). A word is whole:
``contact_details`` (the pupil's own address) is not the ``contacts`` scope, so the includes' own names are listed."""

T = TypeVar("T")


# --- one record: raw JSON → normalised record or Rejected -------------------------------------------


def student_item(raw: Any, today: date | None = None, withheld: frozenset[str] = frozenset()) -> PupilItem:
    """A pupil record from one raw ``students`` record, or the reason it cannot be one.

    :param today: the day that decides which date ranges (child-protection plan, care) are current.
    :param withheld: sections the school has not granted (from :func:`withheld_sections`).
    """
    try:
        return pupil_record(Student.model_validate(raw), today or london_today(), withheld)
    except ValidationError as exc:
        return Rejected(resource=STUDENTS, record_id=_raw_id(raw), reason=_reason(exc), payload=_payload(raw))
    except (ValueError, TypeError, OverflowError) as exc:
        return Rejected(resource=STUDENTS, record_id=_raw_id(raw), reason=str(exc) or type(exc).__name__,
                        payload=_payload(raw))


def london_today() -> date:
    """Today in London by the run's clock (``HVC_CLOCK_START`` moves it, as for every command)."""
    return school_today(clock_from_environment(dict(os.environ)))


def withheld_sections(permissions: list[Permission] | None) -> frozenset[str]:
    """Sections whose scope the school has not approved; nothing when the permissions are unknown."""
    if not permissions:
        return frozenset()
    granted = [p.words() for p in permissions if p.approved is not False]
    return frozenset(section for section, words in SCOPE_WORDS.items()
                     if not any(re.search(rf"\b{w}s?\b", text) for text in granted for w in words))


def deletion_item(raw: Any) -> DepartureItem:
    """A departure from one raw ``deletions`` record, or the reason it cannot be one."""
    try:
        item = Deletion.model_validate(raw)
        kind = (item.type or "student").strip().lower()
        return Departure(
            mis_id=item.id,
            kind="pupil" if kind in ("student", "students") else "contact" if kind in ("contact", "contacts")
            else "other",
            restored=item.restored_at is not None,
            at=item.at,
        )
    except ValidationError as exc:
        return Rejected(resource=DELETIONS, record_id=_raw_id(raw), reason=_reason(exc), payload=_payload(raw))
    except (ValueError, TypeError, OverflowError) as exc:
        return Rejected(resource=DELETIONS, record_id=_raw_id(raw), reason=str(exc) or type(exc).__name__,
                        payload=_payload(raw))


def _raw_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)[:100] or None


def _payload(raw: Any) -> Any:
    return raw if isinstance(raw, (dict, list)) else {"value": raw}


def _reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


class _Relations:
    """A student's includes read one by one: a missing, withheld or unreadable one leaves a gap, never an error."""

    def __init__(self, student: Student, withheld: frozenset[str]) -> None:
        self.student = student
        self.withheld = withheld
        self.gaps: dict[str, Gap] = {}

    def _gap(self, name: str, gap: Gap) -> None:
        section = SECTION_OF[name]
        if self.gaps.get(section) != "withheld":
            self.gaps[section] = gap

    def one(self, name: str, model: type[T]) -> T | None:
        """A one-to-one include (``{"data": {...}}``) as ``model``, or ``None`` with its gap noted."""
        raw = self.student.relation(name)
        if raw is MISSING:
            self._gap(name, "not-sent")
            return None
        value = unwrap(raw)
        if value is None:
            if not (isinstance(raw, dict) and "data" in raw):  # the scope's field nulled (§2), not an empty one
                self._gap(name, "withheld")
            return None
        try:
            read: T = _validator(model).validate_python(value)
            return read
        except (ValidationError, ValueError, TypeError, OverflowError):
            self._gap(name, "unreadable")
            return None

    def many(self, name: str, model: type[T]) -> list[T]:
        """A one-to-many include, item by item: the readable ones, with a gap noted if any was not."""
        raw = self.student.relation(name)
        if raw is MISSING:
            self._gap(name, "not-sent")
            return []
        if raw is None:
            self._gap(name, "withheld")
            return []
        items = unwrap(raw)
        if items is None:
            return []
        if isinstance(items, dict):  # one item where a list was expected
            items = [items]
        if not isinstance(items, list):
            self._gap(name, "unreadable")
            return []
        adapter = _validator(model)
        read = []
        for item in items:
            try:
                read.append(adapter.validate_python(item))
            except (ValidationError, ValueError, TypeError, OverflowError):
                self._gap(name, "unreadable")
        return read


    def settled(self, arrived: dict[str, bool]) -> dict[str, Gap]:
        """The gaps, a section the school's granted scopes seem to withhold marked so only if none of it
        ``arrived``: the scopes are read by their wording, and data that came is never thrown away on a guess."""
        for section in sorted(self.withheld):
            if not arrived.get(section):
                self.gaps[section] = "withheld"
        return dict(sorted(self.gaps.items()))


_VALIDATORS: dict[Any, TypeAdapter[Any]] = {}


def _validator(model: type[T]) -> TypeAdapter[T]:
    """One validator per model, built on first use (building one costs far more than using it)."""
    found = _VALIDATORS.get(model)
    if found is None:
        found = _VALIDATORS[model] = TypeAdapter(model)
    return found


def pupil_record(student: Student, today: date, withheld: frozenset[str] = frozenset()) -> PupilRecord:
    """Normalise a validated Wonde student; a pupil with no name at all is refused.

    Each include is read on its own (:class:`_Relations`): one whose shape changed leaves that section
    marked in ``gaps``, and the rest of the pupil is kept.
    """
    forename = _clean(student.forename) or _clean(student.legal_forename)
    surname = _clean(student.surname) or _clean(student.legal_surname)
    display = " ".join(p for p in (forename, surname) if p)
    if not display:
        raise ValueError("the record has no name (forename and surname are empty, or their scope is not granted)")
    rel = _Relations(student, withheld)
    details = rel.one("contact_details", ContactDetails)
    home = details.addresses.home if details and details.addresses else None
    lines = home.lines() if home else {}
    education = rel.one("education_details", EducationDetails)
    year = unwrap(student.relation("year"))  # not asked for by the sync; read when a feed sends it
    extended = rel.one("extended_details", dict) or {}
    contacts = tuple(contact_record(c) for c in rel.many("contacts", Contact))
    medical = tuple(_medical(rel.many("medical_conditions", MedicalCondition), rel.many("medical_notes", MedicalNote)))
    # The SEN status in extended_details stands in for needs only when the SEN scope is granted.
    sen = tuple(_sen(rel.many("sen_needs", SenNeed), {} if "sen" in withheld else extended))
    summary = rel.one("attendance_summary", AttendanceSummary)
    plans = rel.many("child_protection_plan_date_ranges", DateRange)
    care = rel.many("in_care_date_ranges", DateRange)
    attendance = _attendance(summary) if summary else None
    return PupilRecord(
        mis_id=student.id,
        native_id=_clean(student.mis_id),
        upi=_clean(student.upi),
        upn=_clean(education.upn if education else None) or _clean(student.upn),
        forename=forename,
        surname=surname,
        display_name=display,
        date_of_birth=student.date_of_birth,
        year_group=_year_group(year, education),
        address=lines or None,
        address_text=address_text(lines),
        phones=details.phones.numbers() if details and details.phones else (),
        mis_updated_at=student.updated_at,
        contacts=contacts,
        medical=medical,
        sen=sen,
        alerts=tuple(_alerts(contacts, extended, plans, care, today)),
        attendance=(attendance,) if attendance else (),
        gaps=rel.settled({"contacts": bool(contacts), "medical": bool(medical), "sen": bool(sen),
                          "attendance": summary is not None}),
    )


def contact_record(contact: Contact) -> ContactRecord:
    rel = contact.relationship
    details = contact.contact_details
    home = details.addresses.home if details and details.addresses else None
    name = " ".join(p for p in (_clean(contact.forename), _clean(contact.surname)) if p)
    if not name:
        name = " ".join(p for p in (_clean(contact.title), "(no name in the MIS)") if p)
    return ContactRecord(
        mis_id=contact.id,
        name=name,
        relationship=_clean(rel.relationship) if rel else None,
        parental_responsibility=rel.parental_responsibility if rel else None,
        priority=rel.priority if rel else None,
        lives_with_pupil=rel.lives_with_pupil if rel else None,
        court_order=rel.court_order if rel else None,
        phones=details.phones.numbers() if details and details.phones else (),
        email=details.emails.first() if details and details.emails else None,
        address_text=home.text() if home else None,
    )


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _year_group(year: Any, education: EducationDetails | None) -> str | None:
    year = year if isinstance(year, dict) else {}
    for value in (year.get("name"), year.get("code"), education and education.current_nc_year):
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _medical(conditions: list[MedicalCondition], notes: list[MedicalNote]) -> Iterator[MedicalRecord]:
    for condition in conditions:
        title = _clean(condition.name) or _clean(condition.description)
        said = [n for n in (_clean(note.note) for note in condition.notes) if n]
        if not said and condition.name:
            said = [d for d in (_clean(condition.description),) if d]
        text = " — ".join(p for p in (title, "; ".join(said)) if p)
        if text:
            yield MedicalRecord(kind="condition", description=text)
    for note in notes:
        said_note = " — ".join(p for p in (_clean(note.title), _clean(note.note)) if p)
        if said_note:
            yield MedicalRecord(kind="note", description=said_note)


def _sen(needs: list[SenNeed], extended: dict[str, Any]) -> Iterator[SenRecord]:
    ranked = sorted(needs, key=lambda n: (n.rank is None, n.rank or 0))
    named = False
    for need in ranked:
        category = need.sen_category
        name = (category and _clean(category.name)) or _clean(need.description) or _clean(need.type)
        if not name:
            continue
        code = (category and _clean(category.code)) or _clean(need.type)
        rank = f"rank {need.rank}: " if need.rank is not None else ""
        named = True
        yield SenRecord(need=rank + (f"{name} ({code})" if code and code != name else name),
                        provision=_clean(need.provision))
    status = extended.get("sen_status")
    if isinstance(status, str) and status.strip().upper() in SEN_STATUS and not named:
        yield SenRecord(need=SEN_STATUS[status.strip().upper()], provision="needs not itemised in the MIS feed")
    elif isinstance(status, str) and status.strip().upper() == "E" and named:
        yield SenRecord(need=SEN_STATUS["E"])


def _day(value: date | None) -> str:
    return humanize.day(value, missing="a date not recorded")


def _alerts(contacts: tuple[ContactRecord, ...], extended: dict[str, Any], plans: list[DateRange],
            care: list[DateRange], today: date) -> Iterator[AlertRecord]:
    for contact in contacts:
        if contact.court_order:
            who = f"{contact.name} ({contact.relationship or 'contact'})"
            yield AlertRecord(kind="court-order", text=f"A court order concerns {who}; its terms are {NOT_IN_FEED}.")
    current = [r for r in plans if r.covers(today)]
    if current:
        yield AlertRecord(kind="child-protection-plan",
                          text=f"Child protection plan since {_day(current[0].start_date)}: speak to the DSL first.")
    elif plans:
        ended = max((r.end_date for r in plans if r.end_date), default=None)
        yield AlertRecord(kind="child-protection-plan-ended",
                          text=f"A child protection plan ended {_day(ended)}.")
    if any(r.covers(today) for r in care) or parse_flag_or_none(extended.get("in_lea_care")):
        yield AlertRecord(kind="looked-after", text="Looked-after child (in local-authority care): the social "
                                                    "worker may need to know of the visit.")


def parse_flag_or_none(value: Any) -> bool | None:
    """A yes/no value of ``extended_details``, or ``None`` when it is missing or not a flag."""
    try:
        return parse_flag(value)
    except ValueError:
        return None


def _attendance(summary: AttendanceSummary) -> AttendanceRecord | None:
    if summary.possible is None or summary.present is None:
        return None  # scope not granted
    return AttendanceRecord(
        period="summary",
        possible=max(0, summary.possible),
        attended=max(0, summary.present + (summary.approved_activity or 0)),
        authorised=_marks(summary.authorised),
        unauthorised=_marks(summary.unauthorised),
    )


def _marks(count: int | None) -> int | None:
    """Absence marks as the summary gives them, or ``None`` when it gives none: Wonde documents only "absence
    marks", so the names we read are guesses and one missing is not known, never 0."""
    return None if count is None else max(0, count)


# --- the adapter -------------------------------------------------------------------------------------


class WondeAdapter:
    """One school's Wonde data as normalised records (the :class:`hv_connector.sync.pipeline.MisAdapter` interface)."""

    def __init__(self, connections: WondeConnections, school_id: str, wonde_school_id: str) -> None:
        self.school_id = school_id
        self.wonde_school_id = wonde_school_id
        self._connections = connections
        self._client: WondeClient | None = None
        self._cursors: dict[str, TimeCursor] = {}

    @property
    def requests(self) -> int:
        return self._client.requests_by_school[self.wonde_school_id] if self._client else 0

    async def __aenter__(self) -> WondeAdapter:
        self._client = await self._connections.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._connections.release()

    async def pupils(self, since: str | None) -> AsyncIterator[list[PupilItem]]:
        assert self._client is not None, "use the adapter inside `async with`"
        cursor = self._cursors[PUPILS] = TimeCursor(since)
        # The school's granted scopes are asked for alongside the first page, not before it.
        granted = asyncio.ensure_future(self._client.permissions(self.wonde_school_id))
        today = self._connections.today()
        try:
            async for page in self._client.students(self.wonde_school_id, since=cursor.since):
                read = functools.partial(student_item, today=today, withheld=withheld_sections(await granted))
                items = await asyncio.to_thread(_each, read, page.records)
                del page  # the raw page: not held by us while the next comes (the client lets go of its own then)
                for item in items:
                    if isinstance(item, PupilRecord):
                        cursor.saw(item.mis_updated_at)
                yield items
                del items  # nor held while the next page is fetched
        finally:
            if not granted.done():
                granted.cancel()
            elif not granted.cancelled():
                granted.exception()  # retrieved, so asyncio does not warn about it

    async def departures(self, since: str | None) -> AsyncIterator[list[DepartureItem]]:
        assert self._client is not None, "use the adapter inside `async with`"
        cursor = self._cursors[DEPARTURES] = TimeCursor(since)
        async for page in self._client.deletions(self.wonde_school_id, since=cursor.since):
            items = await asyncio.to_thread(_each, deletion_item, page.records)
            for item in items:
                if isinstance(item, Departure):
                    cursor.saw(item.at)
            yield items

    def next_cursor(self, resource: str, started_at: datetime) -> str | None:
        """The newest ``updated_at`` (or deletion time) seen, less an overlap: Wonde filters by time."""
        return self._cursors[resource].next(started_at)

    async def session_marks(self, first: date, last: date, cursor: str | None) -> AsyncIterator[list[MarkItem]]:
        """The register's marks (see :mod:`hv_connector.builtin.wonde_register`), changed after the cursor's time."""
        assert self._client is not None, "use the adapter inside `async with`"
        seen = self._cursors[MARKS] = TimeCursor(cursor)
        async for marks in register_pages(self._client, self.wonde_school_id, first, last, seen.since):
            for mark in marks:
                if isinstance(mark, SessionMark):
                    seen.saw(mark.updated_at)
            yield marks


def _each(parse: Callable[[Any], T], records: list[Any]) -> list[T]:
    """Parse a page's records (in a worker thread, so a big page never stalls the event loop's rate timer)."""
    return [parse(raw) for raw in records]


class WondeConnections:
    """The factory ``mis_adapters`` registers: one adapter per school, one shared client per run.

    Called as ``factory(settings, school)``. The client opens when the first
    school's adapter is entered and closes when the last one leaves.
    """

    def __init__(self, make_client: Callable[..., WondeClient] = WondeClient,
                 today: Callable[[], date] = london_today) -> None:
        self._make_client = make_client
        self.today = today
        """The day that decides which plans and care ranges are current (tests and the demo fix it)."""
        self._settings: Any = None
        self._client: WondeClient | None = None
        self._users = 0

    def __call__(self, settings: Any, school: Any) -> WondeAdapter:
        for problem in self.settings_problems(settings, school, "hvc.toml"):
            raise ConfigError(problem.message)
        self._settings = settings
        return WondeAdapter(self, school.id, school.mis_school_id)

    def settings_problems(self, settings: Any, school: Any, config_file: str) -> list[Problem]:
        """The installation's Wonde token, and the school's Wonde id (``mis_school_id``)."""
        found = []
        if settings.wonde.token is None:
            found.append(Problem("wonde.token", f"HVC_WONDE__TOKEN is not set: export it or add `token` under "
                                                f"[wonde] in {config_file}"))
        if not school.mis_school_id:
            found.append(Problem(f"schools.{school.id}.mis_school_id",
                                 f"school {school.id} has no Wonde school id: add `mis_school_id` under "
                                 f"[schools.{school.id}] in {config_file}"))
        return found

    async def open(self) -> WondeClient:
        if self._client is None:
            wonde = self._settings.wonde
            self._client = self._make_client(
                wonde.token,
                base_url=wonde.base_url,
                requests_per_second=wonde.requests_per_second,
                concurrency=wonde.concurrency,
                timeout=httpx.Timeout(wonde.timeout, connect=min(10.0, wonde.timeout)),
            )
            await self._client.__aenter__()
        self._users += 1
        return self._client

    async def release(self) -> None:
        self._users -= 1
        if self._users == 0 and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
