"""The pupil briefing: what staff must read before a home visit, assembled from the store.

This is what the ``core.background-read`` rule refers to. :func:`pupil_briefing`
gathers, from the synced MIS data and the visits table: who has parental
responsibility and how to reach them, alerts and orders (no-contact, court
orders, child-protection plans), medical needs, SEN, attendance (the MIS's
summary, and figures from the register's session marks the DfE way), and earlier visits at the same address with how
they went. The dashboard renders the same model; ``hvc pupil show`` prints it.

Everything here is text from the MIS: render it literally, never as markup.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import computed_field
from sqlalchemy import Connection, select

from hv_connector.attendance.figures import AttendanceFigures
from hv_connector.errors import InputError
from hv_connector.models.common import Frozen
from hv_connector.read.attendance import pupil_figures
from hv_connector.read.queries import attendance_percentage
from hv_connector.store.schema import (
    pupil_alerts,
    pupil_attendance,
    pupil_contacts,
    pupil_medical,
    pupil_restrictions,
    pupil_sen,
    pupils,
    visits,
)
from hv_connector.sync.records import AlertRecord, AttendanceRecord, ContactRecord, MedicalRecord, SenRecord

EARLIER_VISITS = 20
"""Earlier visits at the address shown, newest first."""

ORDER_ALERTS = frozenset({"no-contact", "court-order"})

NOT_SHARED = "not shared by the school"
"""What a flag the MIS left empty (null) reads as: unknown, never "no"."""

NOT_KNOWN = "not known"
"""What an absence count the MIS did not send reads as: unknown, never 0."""

NOT_FROM_MIS = "not available from the MIS — check with the DSL"
NOT_IN_ANY_FEED = ("court-order terms", "no-contact orders", "child in need", "young carer")
"""What no MIS feed we read carries: the briefing says so rather than imply "none"."""

GAP_TEXT = {
    "withheld": "withheld: the school has not shared this with hv-connector",
    "unreadable": "could not be read from the MIS feed (its shape changed); what shows is from the last sync that "
                  "could — check the MIS",
    "not-sent": "not sent by the MIS feed; what shows is from the last sync that sent it",
}
"""How each :data:`~hv_connector.sync.records.Gap` reads in the briefing."""

RESTRICTION_KINDS = ("no-contact", "court-order", "other")
"""Kinds of the school's own restrictions (``hvc pupil restrict add --kind``)."""


class Attendance(AttendanceRecord):
    """Sessions over one period, with the percentage staff look for."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def percentage(self) -> float | None:
        """Sessions attended as a percentage of those possible, to one decimal place."""
        return attendance_percentage(self.attended, self.possible)

    def absences(self) -> str:
        """The absent sessions in words: ``4 authorised, 8 unauthorised absences``; a count the MIS did not send
        reads "not known", never 0."""
        counts = [f"{NOT_KNOWN if n is None else n} {kind}" for kind, n in (("authorised", self.authorised),
                                                                           ("unauthorised", self.unauthorised))]
        return f"{', '.join(counts)} absences"


class Restriction(Frozen):
    """A restriction the school keeps itself (a no-contact order, a court order's terms), entered by the DSL team."""

    id: int
    kind: str
    person: str | None = None
    text: str
    added_by: str
    added_at: datetime


class EarlierVisit(Frozen):
    """A visit to the same address before this one, and how it went."""

    visit_id: str
    planned_start: datetime
    state: str
    reason: str | None = None
    pupil_mis_id: str | None = None
    same_pupil: bool = False
    outcome: str
    """One line: seen or not, concerns, violence or abuse towards staff, or why it was cancelled."""
    concern: bool = False
    """A safeguarding concern or an incident towards staff was recorded."""


class PupilBriefing(Frozen):
    """Everything staff must read before visiting one pupil's home."""

    school_id: str
    mis_id: str
    """Our key for the pupil (``hvc pupil show`` and visits use it)."""
    display_name: str
    upn: str | None = None
    native_id: str | None = None
    """The MIS's own id."""
    source_id: str | None = None
    """The MIS feed's record id now (Wonde's id)."""
    upi: str | None = None
    date_of_birth: date | None = None
    year_group: str | None = None
    address_text: str | None = None
    phones: tuple[str, ...] = ()
    synced_at: datetime | None = None
    """When the MIS data was last synced: old data is a risk in itself."""
    archived_at: datetime | None = None
    """Set when the pupil has left the school (the MIS deleted them)."""
    contacts: tuple[ContactRecord, ...] = ()
    """Every contact: parental responsibility first, then by priority (``no_contact`` marks an order)."""
    restrictions: tuple[Restriction, ...] = ()
    """The school's own list (no-contact orders, court-order terms), which no MIS feed carries."""
    alerts: tuple[AlertRecord, ...] = ()
    """Orders first (no-contact, court orders), then other alerts."""
    gaps: dict[str, str] = {}
    """Section → why the MIS data for it is missing (``withheld``, ``unreadable``, ``not-sent``)."""
    medical: tuple[MedicalRecord, ...] = ()
    sen: tuple[SenRecord, ...] = ()
    attendance_summary: Attendance | None = None
    """The MIS's own attendance summary (its period is not stated)."""
    attendance_term: Attendance | None = None
    attendance_3m: Attendance | None = None
    other_attendance: tuple[Attendance, ...] = ()
    attendance: AttendanceFigures | None = None
    """Figures from the register's session marks, the DfE way (``None``: the school has not shared its register)."""
    earlier_visits: tuple[EarlierVisit, ...] = ()

    @property
    def with_parental_responsibility(self) -> tuple[ContactRecord, ...]:
        return tuple(c for c in self.contacts if c.parental_responsibility)

    @property
    def orders(self) -> tuple[AlertRecord, ...]:
        return tuple(a for a in self.alerts if a.kind in ORDER_ALERTS)

    def missing(self, section: str, nothing: str) -> str:
        """Why a section shows nothing: its gap, in words, or ``nothing`` when the MIS said there is none."""
        gap = self.gaps.get(section)
        return GAP_TEXT.get(gap, gap) if gap else nothing

    def incomplete(self, section: str) -> str | None:
        """A warning when a section has rows that may be out of date (the last sync could not read it whole)."""
        gap = self.gaps.get(section)
        return GAP_TEXT[gap] if gap in ("unreadable", "not-sent") else None


def flag(value: bool | None, yes: str, no: str) -> str:
    """A contact's flag in words: ``yes``, ``no``, or "… not shared by the school" when the MIS left it empty."""
    return yes if value else no if value is False else f"{yes}: {NOT_SHARED}"


def not_from_mis() -> str:
    """The line that says what the MIS cannot tell staff."""
    return f"{', '.join(NOT_IN_ANY_FEED).capitalize()}: {NOT_FROM_MIS}"


def find_pupil(conn: Connection, pupil_id: str, school_id: str | None = None) -> tuple[str, str]:
    """``(school_id, mis_id)`` of the pupil whose id (ours, the MIS's own, or the feed's) or UPN is ``pupil_id``.

    :raises InputError: no such pupil, or the id matches pupils in more than one school.
    """
    query = select(pupils.c.school_id, pupils.c.mis_id).where(
        (pupils.c.mis_id == pupil_id) | (pupils.c.upn == pupil_id) | (pupils.c.source_id == pupil_id)
        | (pupils.c.native_id == pupil_id))
    if school_id:
        query = query.where(pupils.c.school_id == school_id)
    found = sorted({(row.school_id, row.mis_id) for row in conn.execute(query)})
    where = f" in school {school_id}" if school_id else ""
    if not found:
        raise InputError(f"no pupil with MIS id or UPN {pupil_id!r}{where}: check the id, or run `hvc sync` "
                         "if the pupil joined recently")
    if len(found) > 1:
        schools = ", ".join(s for s, _ in found)
        raise InputError(f"{pupil_id!r} matches pupils in schools {schools}: add --school to choose one")
    return found[0]


def pupil_briefing(conn: Connection, school_id: str, mis_id: str, as_of: date) -> PupilBriefing:
    """Assemble the briefing for pupil ``mis_id`` of ``school_id`` from the store, with attendance as of ``as_of``.

    :raises InputError: the pupil is not in the store.
    """
    pupil = conn.execute(select(pupils).where(pupils.c.school_id == school_id, pupils.c.mis_id == mis_id)).first()
    if pupil is None:
        raise InputError(f"no pupil {mis_id!r} in school {school_id}: run `hvc sync --school {school_id}`")
    key = (school_id, mis_id)
    attendance = [Attendance(**row) for row in _rows(conn, pupil_attendance, key, "period", "possible",
                                                      "attended", "authorised", "unauthorised")]
    by_period = {a.period: a for a in attendance}
    return PupilBriefing(
        school_id=school_id,
        mis_id=mis_id,
        display_name=pupil.display_name or mis_id,
        upn=pupil.upn,
        native_id=pupil.native_id,
        source_id=pupil.source_id,
        upi=pupil.upi,
        gaps=dict(pupil.gaps or {}),
        restrictions=restrictions(conn, school_id, mis_id),
        date_of_birth=pupil.date_of_birth,
        year_group=pupil.year_group,
        address_text=pupil.address_text,
        phones=tuple(pupil.phones or ()),
        synced_at=pupil.synced_at,
        archived_at=pupil.archived_at,
        contacts=_contacts(conn, key),
        alerts=tuple(sorted((AlertRecord(**r) for r in _rows(conn, pupil_alerts, key, "kind", "text")),
                            key=lambda a: a.kind not in ORDER_ALERTS)),
        medical=tuple(MedicalRecord(**r) for r in _rows(conn, pupil_medical, key, "kind", "description")),
        sen=tuple(SenRecord(**r) for r in _rows(conn, pupil_sen, key, "need", "provision")),
        attendance_summary=by_period.get("summary"),
        attendance_term=by_period.get("term"),
        attendance_3m=by_period.get("3m"),
        other_attendance=tuple(a for p, a in by_period.items() if p not in ("summary", "term", "3m")),
        attendance=pupil_figures(conn, school_id, mis_id, as_of),
        earlier_visits=earlier_visits(conn, school_id, pupil.address_text, mis_id),
    )


def restrictions(conn: Connection, school_id: str, mis_id: str) -> tuple[Restriction, ...]:
    """The school's standing restrictions on a pupil (removed ones left out), oldest first."""
    table = pupil_restrictions
    rows = conn.execute(select(table.c.id, table.c.kind, table.c.person, table.c.text, table.c.added_by,
                               table.c.added_at)
                        .where(table.c.school_id == school_id, table.c.pupil_mis_id == mis_id,
                               table.c.removed_at.is_(None)).order_by(table.c.id))
    return tuple(Restriction(**row._mapping) for row in rows)


def _rows(conn: Connection, table: Any, key: tuple[str, str], *columns: str) -> list[dict[str, Any]]:
    order = table.c.id if "id" in table.c else table.c[columns[0]]
    query = (select(*(table.c[c] for c in columns))
             .where(table.c.school_id == key[0], table.c.pupil_mis_id == key[1]).order_by(order))
    return [dict(row._mapping) for row in conn.execute(query)]


def _contacts(conn: Connection, key: tuple[str, str]) -> tuple[ContactRecord, ...]:
    fields = ("contact_mis_id", "name", "relationship", "parental_responsibility", "priority", "lives_with_pupil",
              "no_contact", "court_order", "phones", "email", "address_text")
    contacts = []
    for row in _rows(conn, pupil_contacts, key, *fields):
        row["mis_id"] = row.pop("contact_mis_id")
        row.update(phones=tuple(row["phones"] or ()), name=row["name"] or "(no name)")
        contacts.append(ContactRecord(**row))
    return tuple(sorted(contacts, key=lambda c: (not c.parental_responsibility, c.priority is None,
                                                 c.priority or 0, c.name)))


def earlier_visits(conn: Connection, school_id: str, address_text: str | None,
                   mis_id: str | None = None) -> tuple[EarlierVisit, ...]:
    """Visits the school made (or planned) to ``address_text`` before, newest first, with their outcomes."""
    if not address_text:
        return ()
    rows = conn.execute(select(visits.c.id, visits.c.planned_start, visits.c.state, visits.c.reason,
                               visits.c.pupil_mis_id, visits.c.data)
                        .where(visits.c.school_id == school_id, visits.c.address_text == address_text)
                        .order_by(visits.c.planned_start.desc()).limit(EARLIER_VISITS))
    found = []
    for row in rows:
        text, concern = outcome_summary(row.state, row.data or {})
        found.append(EarlierVisit(visit_id=row.id, planned_start=row.planned_start, state=row.state,
                                  reason=row.reason, pupil_mis_id=row.pupil_mis_id,
                                  same_pupil=row.pupil_mis_id == mis_id, outcome=text, concern=concern))
    return tuple(found)


def outcome_summary(state: str, data: dict[str, Any]) -> tuple[str, bool]:
    """One line saying how a visit went, and whether it raised a concern, from its stored record."""
    outcome = data.get("outcome") or {}
    if not outcome:
        return (f"no report yet ({state})", False)
    if outcome.get("cancelled"):
        why = outcome.get("cancellation_reason") or "no reason recorded"
        safety = " for safety" if outcome.get("cancelled_for_safety") else ""
        return (f"cancelled{safety}: {why}", bool(outcome.get("cancelled_for_safety")))
    parts = []
    seen = outcome.get("child_seen")
    parts.append("child seen" if seen else "child not seen" if seen is False else "child seen: not recorded")
    if outcome.get("child_spoken_to"):
        parts.append("spoken to")
    concern = bool(outcome.get("cp_concern") or outcome.get("concerns") or outcome.get("violence_or_abuse"))
    if outcome.get("cp_concern"):
        parts.append("child-protection concern raised")
    elif outcome.get("concerns"):
        parts.append(f"concerns: {outcome['concerns']}")
    if outcome.get("violence_or_abuse"):
        parts.append("violence or abuse towards staff")
    if outcome.get("dangerous_animals_present"):
        parts.append("dangerous animals present")
    return ("; ".join(parts), concern)
