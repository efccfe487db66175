"""The reads the dashboard's screens make: small, indexed, limited queries that return models.

Each function takes an open :class:`~sqlalchemy.Connection` and reads only
what one screen shows, so the first paint costs the same with fifty visits
as with fifty thousand:

- :func:`pending` — visits waiting for a decision (``visits`` by its
  ``(state, expected_return)`` index), soonest first, with the block / warn /
  info counts of each visit's latest ``visit_events`` findings;
- :func:`outbox_rows`, :func:`outbox_counts`, :func:`outbox_to_check` — outbox records without their payloads,
  how many are in each status, and how many may be in CPOMS twice with nobody having checked;
- :func:`twice_said` — what a record that may be in CPOMS twice says of it, for ``hvc outbox show`` and the
  dashboard's outbox record alike;
- :func:`sync_status` — the last run per school and the open quarantine;
- :func:`find_pupils` — pupils whose name holds what was typed;
- :func:`visit_pupil_name` — whom a visit is for, for a sentence about it;
- :func:`attendance_percentage` — the one way a pupil's attendance becomes a percentage.

Everything here is text from the MIS or from staff: the dashboard shows it
literally, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from hv_connector.models import Finding, Severity
from hv_connector.models.common import Frozen
from hv_connector.read.attendance import attendance_3m
from hv_connector.store.rows import MAY_BE_TWICE, OutboxEntry
from hv_connector.store.tables.outbox import outbox
from hv_connector.store.tables.people import pupils
from hv_connector.store.tables.sync import quarantine, sync_runs
from hv_connector.store.tables.visits import visit_events, visits

PAGE = 50
"""Rows a list reads at most: a screen never holds more than a lead can scan."""

class PendingRow(Frozen):
    """One visit waiting for a decision, as the pending-review table shows it."""

    visit_id: str
    school_id: str
    pupil_name: str
    reason: str
    address: str
    planned_start: datetime
    emergency: bool = False
    blocks: int = 0
    warns: int = 0
    infos: int = 0


class PendingPage(Frozen):
    """The first :data:`PAGE` pending visits that match, and whether more match (they are not counted)."""

    rows: tuple[PendingRow, ...]
    more: bool


class VisitRow(Frozen):
    """One visit as the visits list shows it: read from the visit's columns, never its whole document."""

    visit_id: str
    school_id: str
    state: str
    pupil_name: str
    reason: str
    planned_start: datetime
    expected_return: datetime | None
    staff_ids: tuple[str, ...]


TO_CHECK = and_(outbox.c.doubt.is_not(None), outbox.c.doubt_checked_at.is_(None))
"""An outbox row the receiver may hold twice that nobody has checked: :attr:`OutboxEntry.to_check`, in SQL."""


class OutboxRow(OutboxEntry):
    """One CPOMS outbox record without its payload, as ``hvc outbox list`` and the dashboard show it."""

    pupil_name: str
    """The pupil the report is about, as the report names them."""
    upn: str | None = None
    """The pupil's UPN, as the report holds it (with :attr:`mis_id` and :attr:`date_of_birth`: what a person
    attaches a record in CPOMS's tray by)."""
    mis_id: str | None = None
    date_of_birth: date | None = None


def twice_said(entry: OutboxEntry) -> str | None:
    """What a record that may be in CPOMS twice says of it: ``It may be in CPOMS twice: …: DOUBT`` until someone
    has looked, then ``It might have been in CPOMS twice (DOUBT): checked by …``; ``None`` for a record with no such
    doubt. Not neutralised: each front end shows it as it shows the receiver's words."""
    if entry.checked:
        return f"It might have been in CPOMS twice ({entry.doubt}): {entry.checked}"
    return f"It {MAY_BE_TWICE}: {entry.doubt}" if entry.doubt else None


PUPIL_IDS = ("upn", "mis_id", "date_of_birth")
"""The report's fields :class:`OutboxRow` reads beside the pupil's name."""


class SyncRow(Frozen):
    """The last sync run of one school."""

    id: int
    school_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    added: int
    updated: int
    archived: int
    quarantined: int
    requests: int
    seconds: float | None
    message: str | None


class QuarantineRow(Frozen):
    """A record the last sync set aside, and why."""

    id: int
    school_id: str
    resource: str
    record_id: str | None
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime


class PupilHit(Frozen):
    """A pupil found by name, with what a request needs."""

    school_id: str
    mis_id: str
    name: str
    upn: str | None
    year_group: str | None
    address: str | None
    attendance_3m: float | None
    """Attendance over the last 3 months from the register (``None``: not available)."""


def attendance_percentage(attended: int, possible: int | None) -> float | None:
    """Sessions attended as a percentage of those possible, to one decimal place; ``None`` with none possible."""
    return round(100 * attended / possible, 1) if possible else None


def _pupil_name() -> Any:
    """The pupil's MIS display name, else the name stored with the visit (a new family)."""
    return func.coalesce(pupils.c.display_name, visits.c.pupil_name)


def _with_pupil(query: Any) -> Any:
    return query.select_from(visits.outerjoin(pupils, and_(pupils.c.school_id == visits.c.school_id,
                                                          pupils.c.mis_id == visits.c.pupil_mis_id)))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def pending(conn: Connection, *, schools: Sequence[str] | None = None, text: str = "",
            limit: int = PAGE) -> PendingPage:
    """Visits in ``requested``, emergencies first, then soonest start, filtered by ``text``.

    Read in the order of the ``(state, emergency, planned_start, id)`` index, emergencies then the rest,
    stopping one row past ``limit``: a keystroke costs the same with fifty visits as with fifty thousand.

    :param schools: only these schools (``None``: every school).
    :param text: part of the pupil's name, the address, the reason or the visit id (any case).
    :param limit: rows to read at most; ``more`` says whether others match.
    """
    where = [visits.c.state == "requested"]
    if schools is not None:
        where.append(visits.c.school_id.in_(list(schools)))
    needle = text.strip().lower()
    if needle:
        pattern = _like(needle)
        where.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in
                           (_pupil_name(), visits.c.address_text, visits.c.reason, visits.c.id))))
    query = _with_pupil(select(visits.c.id, visits.c.school_id, visits.c.reason, visits.c.address_text,
                               visits.c.planned_start, visits.c.emergency, _pupil_name().label("pupil_name")))
    rows: list[Any] = []
    for emergency in (True, False):
        if len(rows) > limit:
            break
        rows += conn.execute(query.where(*where, visits.c.emergency.is_(emergency))
                             .order_by(visits.c.planned_start, visits.c.id).limit(limit + 1 - len(rows))).all()
    page = rows[:limit]
    tallies = latest_tallies(conn, [row.id for row in page])
    return PendingPage(more=len(rows) > limit, rows=tuple(
        PendingRow(visit_id=row.id, school_id=row.school_id, pupil_name=row.pupil_name or "(no name)",
                   reason=row.reason or "", address=row.address_text or "", planned_start=row.planned_start,
                   emergency=bool(row.emergency), **tallies.get(row.id, {}))
        for row in page))


def visit_rows(conn: Connection, states: Sequence[str], *, schools: Sequence[str] | None = None,
               newest_first: bool = False, limit: int = PAGE) -> list[VisitRow]:
    """Visits in ``states``, soonest planned start first (``newest_first``: latest first), at most ``limit``.

    :param schools: only these schools (``None``: every school).
    """
    where = [visits.c.state.in_(list(states))]
    if schools is not None:
        where.append(visits.c.school_id.in_(list(schools)))
    order = (visits.c.planned_start.desc(), visits.c.id.desc()) if newest_first else (visits.c.planned_start, visits.c.id)
    rows = conn.execute(_with_pupil(select(visits.c.id, visits.c.school_id, visits.c.state, visits.c.reason,
                                           visits.c.planned_start, visits.c.expected_return, visits.c.staff_ids,
                                           _pupil_name().label("pupil_name")))
                        .where(*where).order_by(*order).limit(limit))
    return [VisitRow(visit_id=row.id, school_id=row.school_id, state=row.state, pupil_name=row.pupil_name or "(no name)",
                     reason=row.reason or "", planned_start=row.planned_start, expected_return=row.expected_return,
                     staff_ids=tuple(row.staff_ids or ())) for row in rows]


def out_on(conn: Connection, staff_ids: Sequence[str], states: Sequence[str]) -> dict[str, list[str]]:
    """Staff id → the visits in ``states`` (those out) that each of ``staff_ids`` is on."""
    wanted, found = set(staff_ids), dict[str, list[str]]()
    for row in conn.execute(select(visits.c.id, visits.c.staff_ids).where(visits.c.state.in_(list(states)))
                            .order_by(visits.c.id)):
        for staff_id in wanted.intersection(row.staff_ids or ()):
            found.setdefault(staff_id, []).append(row.id)
    return found


def latest_tallies(conn: Connection, visit_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Visit id → ``{"blocks", "warns", "infos"}`` from the visit's latest findings (of an event the policy judged)."""
    if not visit_ids:
        return {}
    latest = (select(func.max(visit_events.c.id)).where(visit_events.c.visit_id.in_(list(visit_ids)),
                                                         visit_events.c.findings.is_not(None))
              .group_by(visit_events.c.visit_id))
    found: dict[str, dict[str, int]] = {}
    for row in conn.execute(select(visit_events.c.visit_id, visit_events.c.findings)
                            .where(visit_events.c.id.in_(latest))):
        severities = [f.get("severity") for f in row.findings or ()]
        found[row.visit_id] = {"blocks": severities.count(Severity.BLOCK.value),
                               "warns": severities.count(Severity.WARN.value),
                               "infos": severities.count(Severity.INFO.value)}
    return found


def latest_findings(conn: Connection, visit_id: str) -> list[Finding]:
    """The findings stored with the visit's latest event the policy judged (the watch's overdue marks are not)."""
    stored = conn.execute(select(visit_events.c.findings).where(visit_events.c.visit_id == visit_id,
                                                                visit_events.c.findings.is_not(None))
                          .order_by(visit_events.c.id.desc()).limit(1)).scalar_one_or_none()
    return [Finding.model_validate(f) for f in stored or ()]


def outbox_rows(conn: Connection, *, statuses: Sequence[str] | None = None, schools: Sequence[str] | None = None,
                limit: int | None = None, newest_first: bool = False) -> list[OutboxRow]:
    """Outbox records without their payloads: parked first (someone must look), then concerns, oldest first
    (``newest_first``: the latest written first, as a list of sent records reads, after every record that may be in
    CPOMS twice and that nobody has checked (:data:`TO_CHECK`), so no number of later records hides one).

    :param statuses: only records in these statuses (``None``: all; :data:`~hv_connector.store.rows.WAITING`: not yet in CPOMS).
    :param schools: only these schools' records (``None``: every school).
    :param limit: rows to read at most (``None``: all of them).
    """
    where = []
    if statuses is not None:
        where.append(outbox.c.status.in_(list(statuses)))
    if schools is not None:
        where.append(outbox.c.school_id.in_(list(schools)))
    columns = [outbox.c[name] for name in OutboxEntry.model_fields]
    pupil_name = func.coalesce(outbox.c.payload["pupil_name"].as_string(), "(no name)").label("pupil_name")
    columns += [outbox.c.payload[name].as_string().label(name) for name in PUPIL_IDS]
    order = ((TO_CHECK.desc(), outbox.c.created_at.desc(), outbox.c.id.desc()) if newest_first else
             (outbox.c.status != "parked", outbox.c.priority, outbox.c.created_at, outbox.c.id))
    rows = conn.execute(select(*columns, pupil_name).where(*where).order_by(*order).limit(limit))
    return [OutboxRow.model_validate(dict(r._mapping)) for r in rows]


def outbox_counts(conn: Connection) -> dict[str, int]:
    """How many outbox records are in each status."""
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {status: n for status, n in rows}


def outbox_to_check(conn: Connection) -> int:
    """How many outbox records may be in CPOMS twice with nobody having said they checked (:data:`TO_CHECK`)."""
    return conn.execute(select(func.count()).select_from(outbox).where(TO_CHECK)).scalar_one()


def sync_status(conn: Connection, *, schools: Sequence[str] | None = None,
                limit: int | None = None) -> tuple[list[SyncRow], list[QuarantineRow]]:
    """The latest run of each school that has synced, and the records still in quarantine.

    Runs come by school id; quarantined records by school, oldest first (they
    leave quarantine when the MIS sends them again in good shape).

    :param schools: only these schools (``None``: every school).
    :param limit: quarantined records to read at most (``None``: all of them).
    """
    latest = select(func.max(sync_runs.c.id)).group_by(sync_runs.c.school_id)
    runs = select(*(sync_runs.c[name] for name in SyncRow.model_fields)).where(sync_runs.c.id.in_(latest))
    held = (select(*(quarantine.c[name] for name in QuarantineRow.model_fields))
            .where(quarantine.c.resolved_at.is_(None)))
    if schools is not None:
        runs = runs.where(sync_runs.c.school_id.in_(list(schools)))
        held = held.where(quarantine.c.school_id.in_(list(schools)))
    last = [SyncRow.model_validate(dict(r._mapping)) for r in conn.execute(runs.order_by(sync_runs.c.school_id))]
    held = held.order_by(quarantine.c.school_id, quarantine.c.first_seen_at, quarantine.c.id).limit(limit)
    return last, [QuarantineRow.model_validate(dict(r._mapping)) for r in conn.execute(held)]


def find_pupils(conn: Connection, school_id: str, text: str, *, as_of: date, limit: int = 20) -> list[PupilHit]:
    """Pupils on roll at ``school_id`` whose name holds ``text`` (any case), by surname, with attendance as of ``as_of``."""
    needle = text.strip().lower()
    if not needle:
        return []
    pattern = _like(needle)
    name = func.coalesce(pupils.c.display_name, pupils.c.forename + " " + pupils.c.surname)
    rows = conn.execute(
        select(pupils.c.mis_id, pupils.c.upn, pupils.c.year_group, pupils.c.address_text, name.label("name"))
        .where(pupils.c.school_id == school_id, pupils.c.archived_at.is_(None),
               or_(func.lower(name).like(pattern, escape="\\"),
                   func.lower(pupils.c.surname).like(pattern, escape="\\")))
        .order_by(pupils.c.surname, pupils.c.forename, pupils.c.mis_id).limit(limit)
    ).all()
    return [PupilHit(school_id=school_id, mis_id=r.mis_id, name=r.name or r.mis_id, upn=r.upn, year_group=r.year_group,
                     address=r.address_text, attendance_3m=attendance_3m(conn, school_id, r.mis_id, as_of))
            for r in rows]


def visit_pupil_name(conn: Connection, visit_id: str) -> str | None:
    """The name of the pupil ``visit_id`` is for (``None``: no such visit in the store)."""
    name: str | None = conn.execute(_with_pupil(select(_pupil_name())).where(visits.c.id == visit_id)).scalar()
    return name
