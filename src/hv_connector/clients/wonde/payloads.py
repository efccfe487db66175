"""Wonde payloads: pupils with their includes, deletions, and the page that carries them.

Models ignore unknown fields, so new API fields never break a sync; times arrive as PHP
date objects or ISO strings and are read as aware datetimes.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator


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


_WRAPPER_KEYS = frozenset({"data", "meta"})


def unwrap(value: Any) -> Any:
    """An included relation arrives as ``{"data": ...}``; a missing scope gives ``null``."""
    if isinstance(value, dict) and value.keys() <= _WRAPPER_KEYS:
        return value.get("data")
    return value


def _unwrap_many(value: Any) -> Any:
    value = unwrap(value)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Many = BeforeValidator(_unwrap_many)
One = BeforeValidator(unwrap)


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
        fields = self.__dict__
        found = {}
        for name in ADDRESS_PARTS:
            value = fields[name]
            if value and (value := value.strip()):
                found[name] = value
        return found

    def text(self) -> str | None:
        """One line for matching visits at the same address: ``12 Elm Road, Town, AB1 2CD``."""
        return address_text(self.lines())


def address_text(parts: dict[str, str]) -> str | None:
    """An address's parts (:meth:`Address.lines`) as one line: ``12 Elm Road, Town, AB1 2CD``."""
    if not parts:
        return None
    get = parts.get
    first = " ".join(p for p in (get("apartment"), get("house_name"), get("house_number"), get("street")) if p)
    return ", ".join(p for p in (first, get("district"), get("town"), get("county"), get("postcode")) if p)


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
    return unwrap(value)


_TRUE = frozenset({"y", "yes", "t", "true", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "0"})


def parse_flag(value: Any) -> bool | None:
    """A yes/no flag as an MIS sends it (``true``, ``"Y"``, ``"T"``, ``1``…); ``None`` or ``""`` is *unknown*."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise ValueError(f"not a yes/no flag: {str(value)[:20]!r}")


Flag = Annotated[bool | None, BeforeValidator(parse_flag)]
"""``None`` means the school has not shared it: unknown, never "no"."""


class Relationship(Payload):
    """How a contact stands to the pupil (an object, or plain text from some MIS). Any flag may be null."""

    relationship: Text = None
    parental_responsibility: Flag = None
    priority: int | None = None
    lives_with_pupil: Flag = None
    bill_payer: Flag = None
    email_bills: Flag = None
    court_order: Flag = None
    """Seen in some MIS only: absent is unknown. Wonde never carries an order's terms."""


class Contact(Payload):
    id: str = Field(min_length=1)
    mis_id: Text = None
    upi: Text = None
    title: Text = None
    forename: Text = None
    surname: Text = None
    relationship: Annotated[Relationship | None, BeforeValidator(_relationship)] = None
    contact_details: Annotated[ContactDetails | None, One] = None


def _note_list(value: Any) -> Any:
    """``notes`` of a condition: a relation ``{"data": [...]}`` (Wonde), or plain text (older shapes)."""
    if isinstance(value, str):
        return [{"note": value}]
    return _unwrap_many(value)


class MedicalNote(Payload):
    id: Text = None
    title: Text = None
    note: Text = Field(default=None, validation_alias=AliasChoices("note", "text", "notes", "description"))


class MedicalCondition(Payload):
    id: Text = None
    name: Text = None
    description: Text = None
    notes: Annotated[list[MedicalNote], BeforeValidator(_note_list)] = []


class SenCategory(Payload):
    code: Text = None
    name: Text = Field(default=None, validation_alias=AliasChoices("name", "description"))


class SenNeed(Payload):
    """A special educational need: ``rank`` and a nested ``sen_category`` (older shapes: ``type`` and text)."""

    id: Text = None
    rank: int | None = Field(default=None, validation_alias=AliasChoices("rank", "ranking"))
    sen_category: Annotated[SenCategory | None, One] = None
    type: Text = None
    description: Text = Field(default=None, validation_alias=AliasChoices("description", "type_description"))
    provision: Text = None


class AttendanceSummary(Payload):
    """Wonde's one attendance summary per pupil (its period is not stated), in marks."""

    possible: int | None = Field(default=None, validation_alias=AliasChoices("possible_marks", "possible"))
    present: int | None = Field(default=None, validation_alias=AliasChoices("present_marks", "present"))
    approved_activity: int | None = Field(
        default=None, validation_alias=AliasChoices("approved_educational_activity_marks", "aea_marks"))
    authorised: int | None = Field(
        default=None, validation_alias=AliasChoices("authorised_absence_marks", "authorised_absences"))
    unauthorised: int | None = Field(
        default=None, validation_alias=AliasChoices("unauthorised_absence_marks", "unauthorised_absences"))


class DateRange(Payload):
    """One range of a ``*_date_ranges`` include; ``end_date`` is null while it is open."""

    start_date: WondeDate = None
    end_date: WondeDate = None

    def covers(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (self.end_date is None or day <= self.end_date)


class EducationDetails(Payload):
    admission_number: Text = None
    upn: Text = None
    local_upn: Text = None
    former_upn: Text = None
    current_nc_year: Text = None
    admission_date: WondeDate = None
    leaving_date: WondeDate = None


RELATIONS: tuple[str, ...] = (
    "contact_details", "contacts", "medical_conditions", "medical_notes", "sen_needs", "attendance_summary",
    "extended_details", "education_details", "child_protection_plan_date_ranges", "in_care_date_ranges", "year",
)
"""The includes :class:`Student` keeps raw, for the adapter to read one by one (a bad one never sinks the pupil)."""


class Student(Payload):
    """A pupil's own fields; its includes (:data:`RELATIONS`) stay raw JSON, read one by one by the adapter.

    ``id`` is Wonde's id (changes when the school changes MIS), ``mis_id`` the MIS's own id and ``upi``
    Wonde's person id that survives re-enrolment. The UPN comes in ``education_details``.
    """

    id: str = Field(min_length=1)
    mis_id: Text = None
    upi: Text = None
    upn: Text = None
    """Not sent by Wonde at the top level; read only as a fallback for other feeds."""
    title: Text = None
    # Wonde sends an ungranted field as null, never leaves it out: a record without its names is broken.
    forename: Annotated[str | None, Strict()]
    surname: Annotated[str | None, Strict()]
    legal_forename: Text = None
    legal_surname: Text = None
    middle_names: Text = None
    date_of_birth: WondeDate = None
    updated_at: WondeTime = None
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    def relation(self, name: str) -> Any:
        """An include as sent (``{"data": ...}``), or ``MISSING`` when the record does not carry it."""
        extra = self.model_extra or {}
        return extra.get(name, MISSING)


MISSING: Any = object()
"""What :meth:`Student.relation` returns for an include the record does not carry at all."""


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


class Permission(Payload):
    """One data scope of ``/meta/schools/{id}/permissions``: what the school granted the app."""

    identity: Text = None
    name: Text = None
    group: Text = None
    parent: Text = None
    approved: Flag = None

    def words(self) -> str:
        return " ".join(p for p in (self.identity, self.name, self.group, self.parent) if p).lower()


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
