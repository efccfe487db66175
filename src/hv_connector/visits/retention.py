"""Retention: what the school's schedule says must go, what a hold keeps, and removing it with a tombstone.

:func:`plan` lists what is due under :class:`~hv_connector.config.settings.RetentionSettings` (nothing is
changed: ``hvc retention run --dry-run`` prints it); :func:`apply` removes it in one transaction:

- a finished visit past its date goes with its events, decisions, outbox records and escalations; its
  audit entries keep their place in the chain with their detail erased (entries from before revision 0012
  hold their detail in the chain and keep it), and a ``retention.erase`` entry is the tombstone;
- a leaver's contacts, medical needs, SEN, alerts and attendance go, and their address and phones; the audit
  entries about their alerts keep their place with their detail erased, and the tombstone vouches for no alerts;
- a quarantined record goes once resolved long enough.

A hold on a pupil keeps them and all their visits; a hold on a visit keeps that visit. Holds are audited.
A visit due to go while any of its outbox records is not yet on its pupil's chronology in CPOMS (pending, being
sent, parked, awaiting entry, or in CPOMS's Incident Tray: :data:`~hv_connector.store.rows.WHERE` says what each
means) is *held back* instead: a safeguarding record must never vanish unsent. Each
run says so and what to do; the audit log has it (``retention.held-back``) the first night, and again whenever
what holds it changes; it goes on the first run after every record is sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, or_, select, update

from hv_connector.clock import local
from hv_connector.config.settings import RetentionSettings
from hv_connector.errors import InputError
from hv_connector.store import alert_sets, audit
from hv_connector.store.bulk import in_chunks
from hv_connector.store.rows import AWAITING_ENTRY, IN_TRAY, OUTBOX_STATUSES, WAITING, WHERE
from hv_connector.store.schema import (
    acknowledgements,
    escalations,
    notifications,
    outbox,
    overrides,
    pupil_alerts,
    pupil_attendance,
    pupil_contacts,
    pupil_medical,
    pupil_sen,
    pupil_session_marks,
    pupils,
    quarantine,
    retention_holds,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.store.schema import audit as audit_log
from hv_connector.visits.lifecycle import FINISHING, State

FINISHED = frozenset(state.value for state in (*FINISHING, State.CLOSED, State.DECLINED))
ACTOR = "system:retention"
_LEAVER_TABLES = (pupil_contacts, pupil_medical, pupil_sen, pupil_alerts, pupil_attendance, pupil_session_marks)


@dataclass(frozen=True)
class Due:
    """One record the schedule says must go."""

    kind: str
    """``visit``, ``leaver`` (a pupil's MIS background) or ``quarantine``."""
    record_id: str
    school_id: str
    why: str


@dataclass(frozen=True)
class HeldBack:
    """A visit the schedule says must go, kept because some of its records are not yet on its pupil's chronology in CPOMS."""

    visit: Due
    unsent: dict[str, int]
    """Outbox status → how many of the visit's records are in it (``pending``, ``parked``, ``awaiting-entry``…)."""

    @property
    def todo(self) -> str:
        """What the DSL team does so the records reach the pupil's chronology in CPOMS (and the visit can go)."""
        return todo(self.unsent)


def unsent_text(unsent: dict[str, int]) -> str:
    """``3 record(s) not yet on their pupil's chronology in CPOMS: 2 pending (not yet sent to CPOMS), 1 in-tray (in
    CPOMS's Incident Tray, on no pupil's chronology)``: each status said with what it means, in delivery order."""
    counts = ", ".join(f"{unsent[status]} {status} ({WHERE[status]})" for status in OUTBOX_STATUSES if status in unsent)
    return f"{sum(unsent.values())} record(s) not yet on their pupil's chronology in CPOMS: {counts}"


def todo(unsent: dict[str, int]) -> str:
    """What the DSL team does so records in these statuses reach the pupil's chronology in CPOMS."""
    steps = []
    if unsent.keys() & {"pending", "sending"}:
        steps.append("push them (`hvc push`)")
    if "parked" in unsent:
        steps.append("fix the parked ones and retry them (`hvc outbox retry ID`)")
    if AWAITING_ENTRY in unsent:
        steps.append("confirm those entered in CPOMS (`hvc outbox confirm ID --ref CPOMS_NO`)")
    if IN_TRAY in unsent:  # CPOMS has these, on no pupil's chronology
        steps.append("attach those in CPOMS's Incident Tray to the pupil, then confirm them "
                     "(`hvc outbox confirm ID --ref INCIDENT_NO`)")
    return "; ".join([*steps, "`hvc outbox list` shows them"])


@dataclass(frozen=True)
class Plan:
    """What a retention run removes, and the visits it holds back."""

    due: list[Due]
    held_back: list[HeldBack] = field(default_factory=list)

    @property
    def unsent(self) -> dict[str, int]:
        """The held-back visits' records not yet on their pupil's chronology in CPOMS, counted by status."""
        total: Counter[str] = Counter()
        for held in self.held_back:
            total.update(held.unsent)
        return dict(total)

    def only(self, schools: Collection[str] | None) -> Plan:
        """The plan for ``schools`` only (``None``: every school)."""
        if schools is None:
            return self
        return Plan([d for d in self.due if d.school_id in schools],
                    [h for h in self.held_back if h.visit.school_id in schools])


@dataclass(frozen=True)
class Hold:
    """A hold on a pupil or a visit."""

    id: int
    school_id: str
    kind: str
    record_id: str
    reason: str
    placed_by: str
    placed_at: datetime


def place_hold(conn: Connection, *, school_id: str, kind: str, record_id: str, reason: str, by: str, at: datetime) -> int:
    """Hold a pupil or visit against every schedule (audited); the hold's id."""
    if not reason.strip():
        raise InputError("--reason: say why the record is held (e.g. it may concern an allegation of abuse)")
    table, key = (visits, visits.c.id) if kind == "visit" else (pupils, pupils.c.mis_id)
    if conn.execute(select(key).where(table.c.school_id == school_id, key == record_id)).first() is None:
        raise InputError(f"no {kind} {record_id!r} in school {school_id!r}: check the id "
                         f"(`hvc {'visit list' if kind == 'visit' else 'pupil show'}`)")
    placed = conn.execute(insert(retention_holds).values(school_id=school_id, kind=kind, record_id=record_id,
                                                         reason=reason, placed_by=by, placed_at=at))
    hold_id = int(placed.inserted_primary_key[0]) if placed.inserted_primary_key else 0
    audit.append(conn, actor=by, action="retention.hold", school_id=school_id,
                 visit_id=record_id if kind == "visit" else None, at=at,
                 detail={"hold": hold_id, "kind": kind, "record": record_id, "reason": reason})
    return hold_id


def lift_hold(conn: Connection, hold_id: int, *, by: str, at: datetime) -> None:
    """Lift a hold (audited): the schedule applies to the record again."""
    row = conn.execute(select(retention_holds).where(retention_holds.c.id == hold_id,
                                                     retention_holds.c.lifted_at.is_(None))).mappings().one_or_none()
    if row is None:
        raise InputError(f"no hold {hold_id} in force: `hvc retention holds` lists them")
    conn.execute(update(retention_holds).where(retention_holds.c.id == hold_id).values(lifted_by=by, lifted_at=at))
    audit.append(conn, actor=by, action="retention.release", school_id=row["school_id"],
                 visit_id=row["record_id"] if row["kind"] == "visit" else None, at=at,
                 detail={"hold": hold_id, "kind": row["kind"], "record": row["record_id"]})


def hold_school(conn: Connection, hold_id: int) -> str | None:
    """The school of hold ``hold_id`` while it is in force (``None``: no such hold in force)."""
    found: str | None = conn.execute(select(retention_holds.c.school_id).where(
        retention_holds.c.id == hold_id, retention_holds.c.lifted_at.is_(None))).scalar_one_or_none()
    return found


def holds(conn: Connection) -> list[Hold]:
    """The holds in force, oldest first."""
    rows = conn.execute(select(retention_holds).where(retention_holds.c.lifted_at.is_(None))
                        .order_by(retention_holds.c.id)).mappings()
    return [Hold(r["id"], r["school_id"], r["kind"], r["record_id"], r["reason"], r["placed_by"], r["placed_at"])
            for r in rows]


def plan(conn: Connection, schedule: RetentionSettings, now: datetime) -> Plan:
    """What the schedule says must go now, holds honoured; visits with records not yet done in CPOMS held back."""
    held = {(h.school_id, h.kind, h.record_id) for h in holds(conn)}
    visits_due = list(_visits_due(conn, schedule, now, held))
    unsent = _unsent(conn)  # read after: a record written between the two reads keeps its visit
    return Plan([*(item for item in visits_due if item.record_id not in unsent),
                 *_leavers_due(conn, schedule, now, held), *_quarantine_due(conn, schedule, now)],
                [HeldBack(item, unsent[item.record_id]) for item in visits_due if item.record_id in unsent])


def _unsent(conn: Connection) -> dict[str, dict[str, int]]:
    """Visit → its outbox records not yet on its pupil's chronology in CPOMS, counted by status."""
    found: dict[str, Counter[str]] = {}
    rows = conn.execute(select(outbox.c.visit_id, outbox.c.status).where(outbox.c.status.in_(WAITING),
                                                                         outbox.c.visit_id.is_not(None)))
    for visit_id, status in rows:
        found.setdefault(visit_id, Counter())[status] += 1
    return {visit_id: dict(counts) for visit_id, counts in found.items()}


def _visits_due(conn: Connection, schedule: RetentionSettings, now: datetime, held: set[tuple[str, str, str]]) -> Iterator[Due]:
    concerns = set(conn.execute(select(outbox.c.visit_id).where(outbox.c.kind == "concern")).scalars())
    query = (select(visits.c.id, visits.c.school_id, visits.c.pupil_mis_id, visits.c.data, visits.c.updated_at,
                    pupils.c.date_of_birth)
             .join(pupils, (pupils.c.school_id == visits.c.school_id) & (pupils.c.mis_id == visits.c.pupil_mis_id),
                   isouter=True)
             .where(visits.c.state.in_(FINISHED)).order_by(visits.c.id))
    today = local(now).date()
    for row in conn.execute(query):
        if (row.school_id, "visit", row.id) in held or (row.school_id, "pupil", row.pupil_mis_id) in held:
            continue
        if row.id in concerns or _about_safeguarding(row.data):
            if row.date_of_birth is not None and _years_after(row.date_of_birth, schedule.child_protection_years) <= today:
                yield Due("visit", row.id, row.school_id,
                          f"safeguarding record: date of birth + {schedule.child_protection_years} years has passed")
        elif _years_after(local(row.updated_at).date(), schedule.routine_visit_years) <= today:
            yield Due("visit", row.id, row.school_id,
                      f"routine visit finished more than {schedule.routine_visit_years} years ago")


def _leavers_due(conn: Connection, schedule: RetentionSettings, now: datetime, held: set[tuple[str, str, str]]) -> Iterator[Due]:
    cutoff = now - timedelta(days=round(365.25 * schedule.leaver_data_years))
    # Whether each leaver still has background rows is asked in the same query, not in one query a leaver.
    background = or_(*(exists().where(table.c.school_id == pupils.c.school_id, table.c.pupil_mis_id == pupils.c.mis_id)
                       for table in _LEAVER_TABLES))
    query = select(pupils.c.school_id, pupils.c.mis_id, pupils.c.address_text, background.label("background")).where(
        pupils.c.archived_at.is_not(None), pupils.c.archived_at <= cutoff)
    for row in conn.execute(query):
        if (row.school_id, "pupil", row.mis_id) in held:
            continue
        if row.address_text is None and not row.background:
            continue  # already removed
        yield Due("leaver", row.mis_id, row.school_id, f"left more than {schedule.leaver_data_years} year(s) ago")


def _quarantine_due(conn: Connection, schedule: RetentionSettings, now: datetime) -> Iterator[Due]:
    cutoff = now - timedelta(days=schedule.quarantine_days)
    query = select(quarantine.c.id, quarantine.c.school_id).where(quarantine.c.resolved_at.is_not(None),
                                                                  quarantine.c.resolved_at <= cutoff)
    for row in conn.execute(query):
        yield Due("quarantine", str(row.id), row.school_id, f"resolved more than {schedule.quarantine_days} days ago")


def apply(conn: Connection, planned: Plan, now: datetime) -> int:
    """Remove everything due in ``planned`` and write the tombstones, and audit each visit held back (in the
    caller's transaction); the number of audit entries whose detail was erased."""
    erased, due = 0, planned.due
    said = _held_back_as_said(conn, planned.held_back)
    with audit.batched(conn):
        for held in planned.held_back:
            if held.visit.record_id in said:
                continue
            audit.append(conn, actor=ACTOR, action="retention.held-back", school_id=held.visit.school_id,
                         visit_id=held.visit.record_id, at=now,
                         detail={"kind": "visit", "why": held.visit.why, "unsent": held.unsent, "todo": held.todo})
        for item in due:
            if item.kind == "visit":
                erased += _erase_visit(conn, item, now)
            elif item.kind == "leaver":
                _erase_leaver(conn, item, now)
            else:
                conn.execute(delete(quarantine).where(quarantine.c.id == int(item.record_id)))
        quarantined = sum(1 for item in due if item.kind == "quarantine")
        if quarantined:
            audit.append(conn, actor=ACTOR, action="retention.erase", school_id=None, at=now,
                         detail={"kind": "quarantine", "records": quarantined})
    return erased


def _held_back_as_said(conn: Connection, held_back: list[HeldBack]) -> set[str]:
    """The held-back visits whose last ``retention.held-back`` entry already says why and by what they are held: a
    visit held back night after night for the same records is audited once, and again only when that changes."""
    now = {held.visit.record_id: (held.visit.why, held.unsent) for held in held_back}
    last: dict[str, tuple[Any, Any]] = {}
    for ids in in_chunks(list(now)):
        for entry in audit.entries(conn, audit_log.c.action == "retention.held-back", audit_log.c.visit_id.in_(ids)):
            last[entry.visit_id or ""] = (entry.detail.get("why"), entry.detail.get("unsent"))
    return {visit_id for visit_id, what in now.items() if last.get(visit_id) == what}


def _erase_visit(conn: Connection, item: Due, now: datetime) -> int:
    visit_id = item.record_id
    steps = select(escalations.c.id).where(escalations.c.visit_id == visit_id)
    conn.execute(delete(notifications).where(notifications.c.escalation_id.in_(steps)))
    for table in (escalations, watch_queue, visit_events, acknowledgements, overrides, outbox):
        conn.execute(delete(table).where(table.c.visit_id == visit_id))
    conn.execute(delete(visits).where(visits.c.id == visit_id))
    seqs = [entry.seq for entry in audit.history(conn, visit_id)]
    erased = audit.erase_details(conn, seqs, at=now)
    # The tombstone: about the visit, so its record hashes say nothing of it is left.
    audit.append(conn, actor=ACTOR, action="retention.erase", school_id=item.school_id, visit_id=visit_id, at=now,
                 detail={"kind": "visit", "why": item.why, "entries_erased": erased,
                         "entries_kept_whole": len(seqs) - erased})
    return erased


def _erase_leaver(conn: Connection, item: Due, now: datetime) -> None:
    for table in _LEAVER_TABLES:
        conn.execute(delete(table).where(table.c.school_id == item.school_id, table.c.pupil_mis_id == item.record_id))
    conn.execute(update(pupils).where(pupils.c.school_id == item.school_id, pupils.c.mis_id == item.record_id)
                 .values(address=None, address_text=None, phones=None))
    erased = audit.erase_details(conn, alert_sets.entries_about(conn, item.school_id, item.record_id), at=now)
    # The tombstone: its alert-set hash says the pupil's alerts are gone, so verify expects none.
    audit.append(conn, actor=ACTOR, action="retention.erase", school_id=item.school_id, at=now,
                 detail={"kind": "leaver", "why": item.why, "entries_erased": erased},
                 records=alert_sets.record(item.record_id, alert_sets.EMPTY))


def _about_safeguarding(data: dict[str, Any]) -> bool:
    outcome = data.get("outcome") or {}
    return bool(data.get("safeguarding") or data.get("statutory_cp") or outcome.get("cp_concern")
                or outcome.get("violence_or_abuse"))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)
