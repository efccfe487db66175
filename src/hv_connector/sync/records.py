"""Normalised MIS records: what every MIS adapter yields and the sync writes to the store.

Adapters turn their MIS's own payloads into these (validating as they go);
the sync and the store never see an MIS's shapes, so a second adapter
(Groupcall Xporter, Arbor …) only has to produce the same records.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from hv_connector.models.common import Frozen


class ContactRecord(Frozen):
    """A contact of one pupil, with how they stand to the pupil."""

    mis_id: str = Field(min_length=1)
    name: str
    relationship: str | None = None
    parental_responsibility: bool | None = None
    """``None``: the school has not shared it (unknown, never "no"); the same for every flag here."""
    priority: int | None = None
    lives_with_pupil: bool | None = None
    no_contact: bool | None = None
    """Only an MIS feed that carries no-contact orders sets this (Wonde does not)."""
    court_order: bool | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None
    address_text: str | None = None


class MedicalRecord(Frozen):
    kind: str
    """``condition`` or ``note``."""
    description: str


class SenRecord(Frozen):
    need: str
    provision: str | None = None


class AlertRecord(Frozen):
    kind: str
    """``no-contact``, ``court-order``, ``child-protection-plan``, ``looked-after`` …"""
    text: str


class AttendanceRecord(Frozen):
    period: str
    """``summary`` (the MIS's own summary, period not stated), ``term``, ``3m``, or the MIS's own name."""
    possible: int = Field(ge=0)
    attended: int = Field(ge=0)
    authorised: int = Field(ge=0)
    unauthorised: int = Field(ge=0)


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

    mis_id: str = Field(min_length=1)
    native_id: str | None = None
    upi: str | None = None
    upn: str | None = None
    forename: str | None = None
    surname: str | None = None
    display_name: str = Field(min_length=1)
    date_of_birth: date | None = None
    year_group: str | None = None
    address: dict[str, str] | None = None
    address_text: str | None = None
    phones: tuple[str, ...] = ()
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

    mis_id: str = Field(min_length=1)
    kind: Literal["pupil", "contact", "other"]
    restored: bool = False
    """The MIS brought the record back (a pupil who re-joined)."""
    at: AwareDatetime | None = None


class Rejected(Frozen):
    """A record that failed validation: it goes to quarantine, the rest of the run goes on."""

    resource: str
    record_id: str | None = None
    reason: str
    payload: Any = None


PupilItem = PupilRecord | Rejected
DepartureItem = Departure | Rejected
