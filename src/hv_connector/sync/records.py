"""Normalised MIS records: what every MIS adapter yields and the sync writes to the store.

Adapters turn their MIS's own payloads into these (validating as they go);
the sync and the store never see an MIS's shapes, so a second adapter
(Groupcall Xporter, Arbor …) only has to produce the same records.

Every text field is MIS text, so it is *data*: control characters are shown
as visible escapes (:func:`hv_connector.text.neutralise`) as the record is
built, whichever adapter builds it. Each text field also has a length limit
(:class:`Limit`); :func:`overlong` names the first field past its limit, and
the sync quarantines that pupil with the reason rather than store (and later
print) a name of a megabyte. The limits are checked at the sync, not here, so
what an older version stored still reads back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from hv_connector.models.common import Frozen
from hv_connector.text import neutralise


@dataclass(frozen=True)
class Limit:
    """The longest a text field may be, in characters, before the sync quarantines its record."""

    chars: int


ID_CHARS, NAME_CHARS, SHORT_CHARS, ADDRESS_CHARS, NOTE_CHARS = 100, 100, 60, 500, 2000
"""Limits by kind of field: far above any real value, far below what would flood a screen."""

MisId = Annotated[str, Field(min_length=1), AfterValidator(neutralise), Limit(ID_CHARS)]
Name = Annotated[str, AfterValidator(neutralise), Limit(NAME_CHARS)]
Short = Annotated[str, AfterValidator(neutralise), Limit(SHORT_CHARS)]
AddressText = Annotated[str, AfterValidator(neutralise), Limit(ADDRESS_CHARS)]
Note = Annotated[str, AfterValidator(neutralise), Limit(NOTE_CHARS)]


class ContactRecord(Frozen):
    """A contact of one pupil, with how they stand to the pupil."""

    mis_id: MisId
    name: Name
    relationship: Name | None = None
    parental_responsibility: bool | None = None
    """``None``: the school has not shared it (unknown, never "no"); the same for every flag here."""
    priority: int | None = None
    lives_with_pupil: bool | None = None
    no_contact: bool | None = None
    """Only an MIS feed that carries no-contact orders sets this (Wonde does not)."""
    court_order: bool | None = None
    phones: tuple[Short, ...] = ()
    email: Name | None = None
    address_text: AddressText | None = None


class MedicalRecord(Frozen):
    kind: Short
    """``condition`` or ``note``."""
    description: Note


class SenRecord(Frozen):
    need: Note
    provision: Note | None = None


class AlertRecord(Frozen):
    kind: Short
    """``no-contact``, ``court-order``, ``child-protection-plan``, ``looked-after`` …"""
    text: Note


class AttendanceRecord(Frozen):
    period: Short
    """``summary`` (the MIS's own summary, period not stated), ``term``, ``3m``, or the MIS's own name."""
    possible: int = Field(ge=0)
    attended: int = Field(ge=0)
    authorised: int | None = Field(default=None, ge=0)
    """Authorised absent sessions; ``None`` when not known (the MIS did not send them), never read as none."""
    unauthorised: int | None = Field(default=None, ge=0)
    """Unauthorised absent sessions; ``None`` when not known, as ``authorised``."""


Gap = Literal["withheld", "unreadable", "not-sent"]
"""Why a section of a pupil's background is missing: the school did not grant it, the feed sent a shape
that could not be read, or the feed did not send it at all. A section without a gap was read whole."""

SECTIONS = ("address", "contacts", "medical", "sen", "attendance", "alerts", "education")
"""The sections of a pupil's background a gap can name."""


class PupilRecord(Frozen):
    """One pupil and their background, as the store keeps it.

    Identifiers are kept apart: ``mis_id`` is the feed's record id (Wonde's ``A…`` id, which changes when
    the school changes MIS), ``native_id`` the MIS's own id (what CPOMS-style systems match on, with the
    UPN), ``upi`` a person id that survives re-enrolment, and ``upn`` the DfE's unique pupil number.
    """

    mis_id: MisId
    native_id: Short | None = None
    upi: Short | None = None
    upn: Short | None = None
    forename: Name | None = None
    surname: Name | None = None
    display_name: Annotated[str, Field(min_length=1), AfterValidator(neutralise), Limit(2 * NAME_CHARS + 1)]
    date_of_birth: date | None = None
    year_group: Short | None = None
    address: dict[Short, AddressText] | None = None
    address_text: AddressText | None = None
    phones: tuple[Short, ...] = ()
    mis_updated_at: AwareDatetime | None = None
    contacts: tuple[ContactRecord, ...] = ()
    medical: tuple[MedicalRecord, ...] = ()
    sen: tuple[SenRecord, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()
    attendance: tuple[AttendanceRecord, ...] = ()
    gaps: dict[str, Gap] = {}
    """Section (of :data:`SECTIONS`) → why it is missing or incomplete; see :data:`Gap`."""


class Departure(Frozen):
    """A record the MIS deleted: a pupil who left is archived, a contact is removed from their pupils."""

    mis_id: MisId
    kind: Literal["pupil", "contact", "other"]
    restored: bool = False
    """The MIS brought the record back (a pupil who re-joined)."""
    at: AwareDatetime | None = None


class Rejected(Frozen):
    """A record that failed validation: it goes to quarantine, the rest of the run goes on."""

    resource: str
    record_id: Annotated[str, AfterValidator(neutralise)] | None = None
    reason: Annotated[str, AfterValidator(neutralise)]
    payload: Any = None


def overlong(record: BaseModel) -> str | None:
    """Why ``record`` is refused for a field past its :class:`Limit` (the first one found), or ``None``."""
    found = _overlong(record)
    if found is None:
        return None
    where, length, limit = found
    return (f"{where} is {length:,} characters long, over the limit of {limit:,}: the record is kept out of the "
            "store until it is corrected in the MIS")


def _overlong(record: BaseModel) -> tuple[str, int, int] | None:
    """(where, length, limit) of the first text past its limit; the path is only spelt out for that one."""
    fields = record.__dict__
    for name, limit in _limits(type(record)).items():
        value = fields[name]
        if not value or type(value) is str and (limit is None or len(value) <= limit):
            continue  # the common case: none, empty, or text within its limit
        for key, item in _items(value):
            if isinstance(item, BaseModel):
                inner = _overlong(item)
                if inner is not None:
                    return f"{_where(name, key)}.{inner[0]}", inner[1], inner[2]
            elif limit is not None and isinstance(item, str) and len(item) > limit:
                return _where(name, key), len(item), limit
    return None


@cache
def _limits(model: type[BaseModel]) -> dict[str, int | None]:
    """Field name → its :class:`Limit` (of the text itself, each item, or each value of a mapping), for the
    fields that have one or can hold records of their own (flags, numbers and dates are never walked)."""
    limits = {name: _limit_in(info.metadata) or _limit_of(info.annotation) for name, info in model.model_fields.items()}
    return {name: limit for name, limit in limits.items()
            if limit is not None or _holds_records(model.model_fields[name].annotation)}


def _holds_records(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_records(arg) for arg in get_args(annotation))


def _limit_in(metadata: Iterable[Any]) -> int | None:
    return next((m.chars for m in metadata if isinstance(m, Limit)), None)


def _limit_of(annotation: Any) -> int | None:
    args = get_args(annotation)
    if get_origin(annotation) is Annotated:
        return _limit_in(args[1:]) or _limit_of(args[0])
    if get_origin(annotation) is dict:
        return _limit_of(args[1])
    return next((limit for limit in map(_limit_of, args) if limit), None)


def _items(value: Any) -> Iterable[tuple[int | str | None, Any]]:
    """A field's items with their index (a tuple) or key (a mapping); a single value with ``None``."""
    if isinstance(value, tuple):
        return enumerate(value)
    if isinstance(value, dict):
        return value.items()
    return ((None, value),)


def _where(name: str, key: int | str | None) -> str:
    return name if key is None else f"{name}[{key}]" if isinstance(key, int) else f"{name}.{key}"


PupilItem = PupilRecord | Rejected
DepartureItem = Departure | Rejected
