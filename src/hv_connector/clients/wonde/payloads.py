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
