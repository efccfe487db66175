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
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from hv_connector.clients.wonde.client import WondeClient
from hv_connector.clients.wonde.payloads import (
    Contact,
    Deletion,
    MedicalCondition,
    MedicalNote,
    SenNeed,
    Student,
)
from hv_connector.config.checks import Problem
from hv_connector.errors import ConfigError
from hv_connector.sync.cursors import TimeCursor
from hv_connector.sync.records import (
    AlertRecord,
    AttendanceRecord,
    ContactRecord,
    Departure,
    DepartureItem,
    MedicalRecord,
    PupilItem,
    PupilRecord,
    Rejected,
    SenRecord,
)
from hv_connector.sync.store import DEPARTURES, PUPILS

STUDENTS = "students"
DELETIONS = "deletions"

EXTENDED_ALERTS: dict[str, tuple[str, str]] = {
    "child_protection_plan": ("child-protection-plan", "Child protection plan in place: speak to the DSL first."),
    "in_lea_care": ("looked-after", "Looked-after child (in local-authority care): the social worker may need "
                                    "to know of the visit."),
    "child_in_need": ("child-in-need", "Child in need plan."),
    "young_carer": ("young-carer", "Young carer."),
}
"""Wonde extended-details flags that staff must see before a visit, as alert kind and text."""

_YES = {"y", "yes", "true", "1"}

T = TypeVar("T")


# --- one record: raw JSON → normalised record or Rejected -------------------------------------------


def student_item(raw: Any) -> PupilItem:
    """A pupil record from one raw ``students`` record, or the reason it cannot be one."""
    try:
        return pupil_record(Student.model_validate(raw))
    except ValidationError as exc:
        return Rejected(resource=STUDENTS, record_id=_raw_id(raw), reason=_reason(exc), payload=_payload(raw))
    except (ValueError, TypeError, OverflowError) as exc:
        return Rejected(resource=STUDENTS, record_id=_raw_id(raw), reason=str(exc) or type(exc).__name__,
                        payload=_payload(raw))


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


def pupil_record(student: Student) -> PupilRecord:
    """Normalise a validated Wonde student; a pupil with no name at all is refused."""
    forename = _clean(student.forename) or _clean(student.legal_forename)
    surname = _clean(student.surname) or _clean(student.legal_surname)
    display = " ".join(p for p in (forename, surname) if p)
    if not display:
        raise ValueError("the record has no name (forename and surname are empty, or their scope is not granted)")
    details = student.contact_details
    home = details.addresses.home if details and details.addresses else None
    contacts = tuple(contact_record(c) for c in student.contacts)
    return PupilRecord(
        mis_id=student.id,
        upn=_clean(student.upn),
        forename=forename,
        surname=surname,
        display_name=display,
        date_of_birth=student.date_of_birth,
        year_group=_year_group(student),
        address=(home.lines() or None) if home else None,
        address_text=home.text() if home else None,
        phones=details.phones.numbers() if details and details.phones else (),
        mis_updated_at=student.updated_at,
        contacts=contacts,
        medical=tuple(_medical(student.medical_conditions, student.medical_notes)),
        sen=tuple(_sen(n) for n in student.sen_needs if _sen_name(n)),
        alerts=tuple(_alerts(student, contacts)),
        attendance=tuple(a for a in (_attendance(s) for s in student.attendance_summary) if a),
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
        parental_responsibility=bool(rel and rel.parental_responsibility),
        priority=rel.priority if rel else None,
        lives_with_pupil=bool(rel and rel.lives_with_pupil),
        no_contact=bool(rel and rel.no_contact),
        court_order=bool(rel and rel.court_order),
        phones=details.phones.numbers() if details and details.phones else (),
        email=details.emails.first() if details and details.emails else None,
        address_text=home.text() if home else None,
    )


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _year_group(student: Student) -> str | None:
    for source, keys in ((student.year, ("name", "code")),
                         (student.education_details, ("current_nc_year", "nc_year", "year_group", "year"))):
        for key in keys:
            value = (source or {}).get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
    return None


def _medical(conditions: list[MedicalCondition], notes: list[MedicalNote]) -> Iterator[MedicalRecord]:
    for condition in conditions:
        title = _clean(condition.name) or _clean(condition.description)
        detail = _clean(condition.notes) or (_clean(condition.description) if condition.name else None)
        text = " — ".join(p for p in (title, detail) if p)
        if text:
            yield MedicalRecord(kind="condition", description=text)
    for note in notes:
        said = _clean(note.text) or _clean(note.note) or _clean(note.description)
        if said:
            yield MedicalRecord(kind="note", description=said)


def _sen_name(need: SenNeed) -> str | None:
    return _clean(need.description) or _clean(need.need) or _clean(need.type)


def _sen(need: SenNeed) -> SenRecord:
    code = _clean(need.type) or _clean(need.need)
    name = _sen_name(need) or ""
    return SenRecord(need=f"{name} ({code})" if code and code != name else name, provision=_clean(need.provision))


def _alerts(student: Student, contacts: tuple[ContactRecord, ...]) -> Iterator[AlertRecord]:
    for contact in contacts:
        who = f"{contact.name} ({contact.relationship or 'contact'})"
        if contact.no_contact:
            order = " under a court order" if contact.court_order else ""
            yield AlertRecord(kind="no-contact", text=f"{who} must have no contact with the pupil{order}.")
        elif contact.court_order:
            yield AlertRecord(kind="court-order", text=f"A court order concerns {who}: read its terms before "
                                                       "the visit.")
    extended = student.extended_details or {}
    for key, (kind, text) in EXTENDED_ALERTS.items():
        value = extended.get(key)
        if value is True or (isinstance(value, str) and value.strip().lower() in _YES):
            yield AlertRecord(kind=kind, text=text)


def period_key(name: str | None, days: int | None) -> str:
    """``term`` or ``3m`` for the two periods the briefing shows; another period keeps its own name."""
    label = (name or "").lower()
    if "term" in label:
        return "term"
    if "month" in label or (days is not None and 80 <= days <= 100):
        return "3m"
    return (name or "period").strip()[:40] or "period"


def _attendance(summary: Any) -> AttendanceRecord | None:
    if summary.possible is None or summary.attended is None:
        return None  # scope not granted
    days = (summary.end_date - summary.start_date).days if summary.start_date and summary.end_date else None
    return AttendanceRecord(
        period=period_key(summary.period, days),
        possible=summary.possible,
        attended=summary.attended,
        authorised=summary.authorised or 0,
        unauthorised=summary.unauthorised or 0,
    )


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
        async for page in self._client.students(self.wonde_school_id, since=cursor.since):
            items = await asyncio.to_thread(_each, student_item, page.records)
            for item in items:
                if isinstance(item, PupilRecord):
                    cursor.saw(item.mis_updated_at)
            yield items

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


def _each(parse: Callable[[Any], T], records: list[Any]) -> list[T]:
    """Parse a page's records (in a worker thread, so a big page never stalls the event loop's rate timer)."""
    return [parse(raw) for raw in records]


class WondeConnections:
    """The factory ``mis_adapters`` registers: one adapter per school, one shared client per run.

    Called as ``factory(settings, school)``. The client opens when the first
    school's adapter is entered and closes when the last one leaves.
    """

    def __init__(self, make_client: Callable[..., WondeClient] = WondeClient) -> None:
        self._make_client = make_client
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
