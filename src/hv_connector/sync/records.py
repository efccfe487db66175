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
    parental_responsibility: bool = False
    priority: int | None = None
    lives_with_pupil: bool = False
    no_contact: bool = False
    court_order: bool = False
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
    """``term`` (this term to date) or ``3m`` (the last three months), or the MIS's own name."""
    possible: int = Field(ge=0)
    attended: int = Field(ge=0)
    authorised: int = Field(ge=0)
    unauthorised: int = Field(ge=0)


class PupilRecord(Frozen):
    """One pupil and their background, as the store keeps it."""

    mis_id: str = Field(min_length=1)
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
