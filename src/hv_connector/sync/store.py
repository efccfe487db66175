"""Writing a school's synced records to the store (how syncs went is read by :mod:`hv_connector.read.queries`).

:func:`write_school` applies one school's spooled pages in the caller's one
transaction: pupils are upserted (a pupil back in the MIS list is on roll
again), their contacts, medical needs, SEN, alerts and attendance replaced,
departures archive pupils (never delete them: visits point at them), bad
records are quarantined (or their quarantine resolved when they come back
good), the cursors move and the ``sync_runs`` row is written — all or none.
Each pupil whose alerts a page changes gets one audit entry carrying the hash of their new alert set
(:mod:`hv_connector.store.alert_sets`), all written together at the end of the school's transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from hv_connector import humanize
from hv_connector.store import Store, alert_sets, audit
from hv_connector.store.bulk import insert_rows, placeholder
from hv_connector.store.schema import (
    pupil_alerts,
    pupil_attendance,
    pupil_contacts,
    pupil_medical,
    pupil_sen,
    pupil_session_marks,
    pupils,
    quarantine,
    sync_cursors,
    sync_runs,
)
from hv_connector.sync.attendance import MARK_DAYS, MARKS, MarkDays, SessionMark
from hv_connector.sync.records import ContactRecord, Departure, PupilRecord, Rejected, overlong
from hv_connector.text import neutralise

if TYPE_CHECKING:
    from hv_connector.sync.pipeline import SchoolResult, Spool

log = logging.getLogger(__name__)

PUPILS = "pupils"
DEPARTURES = "departures"
"""Cursor names (``sync_cursors.resource``) and spool batch kinds: the pupils walk and the departures feed."""

REPORTED_REJECTS = 50
"""Bad records listed by name in one school's summary; the rest are counted (all are in quarantine)."""

CHILD_TABLES = (pupil_contacts, pupil_medical, pupil_sen, pupil_alerts, pupil_attendance)
SECTION_OF_TABLE = {pupil_contacts.name: "contacts", pupil_medical.name: "medical", pupil_sen.name: "sen",
                    pupil_alerts.name: "alerts", pupil_attendance.name: "attendance"}
"""The briefing section (:data:`~hv_connector.sync.records.SECTIONS`) each child table holds."""
HALF_READ = frozenset({"unreadable", "not-sent"})
"""Gaps that leave a stored pupil's rows of that section as they were: nothing half-read replaces them."""


def read_cursors(store: Store, school_id: str, adapter: str) -> dict[str, str | None]:
    """The school's cursors by resource name, as ``adapter`` left them (absent: never synced through it)."""
    with store.connect() as conn:
        rows = conn.execute(select(sync_cursors.c.resource, sync_cursors.c.position)
                            .where(sync_cursors.c.school_id == school_id, sync_cursors.c.adapter == adapter))
        return {resource: position for resource, position in rows}


def write_school(
    store: Store,
    school_id: str,
    spool: Spool,
    result: SchoolResult,
    cursors: dict[str, str | None],
    adapter: str,
    *,
    full: bool,
) -> None:
    """Apply a school's spooled batches, cursors and run record in one transaction (all or nothing)."""
    now = result.started_at
    days: MarkDays | None = None
    # Pupils' alert changes are audited as the transaction ends: the audit tip is locked for moments, not the run.
    with store.begin() as conn, audit.batched(conn):
        for kind, batch in spool.read():
            if kind == PUPILS:
                write_pupils(conn, school_id, batch, result, now)
            elif kind == DEPARTURES:
                apply_departures(conn, school_id, batch, result, now)
            elif kind == MARK_DAYS:
                days = batch
                clear_marks(conn, school_id, batch)
            elif kind == MARKS and days is not None:
                write_marks(conn, school_id, batch, days, result, now)
        if full:
            result.archived += archive_unseen(conn, school_id, now)
        for resource, position in cursors.items():
            save_cursor(conn, school_id, resource, position, adapter, now)
        result.seconds = result.elapsed()
        insert_run(conn, result)


@dataclass
class PageRows:
    """One page of pupils as the rows they become: cheap to spool (no models to pickle), ready to insert."""

    pupils: list[dict[str, Any]] = field(default_factory=list)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Child table name → rows (contacts, medical, SEN, alerts, attendance)."""
    rejected: list[Rejected] = field(default_factory=list)


def page_rows(school_id: str, batch: Sequence[Any], now: datetime) -> PageRows:
    """Turn a batch of records into rows; a pupil listed twice on a page keeps its last record.

    A pupil with a field past its length limit is quarantined with the reason, whichever adapter sent it.
    """
    good = {item.mis_id: item for item in batch if isinstance(item, PupilRecord)}
    rejected = [item for item in batch if isinstance(item, Rejected)]
    for mis_id, record in list(good.items()):
        reason = overlong(record)
        if reason is not None:
            rejected.append(Rejected(resource=PUPILS, record_id=mis_id, reason=reason))
            del good[mis_id]
    page = PageRows(pupils=[_pupil_row(school_id, record, now) for record in good.values()],
                    children={table.name: [] for table in CHILD_TABLES}, rejected=rejected)
    for record in good.values():
        key = {"school_id": school_id, "pupil_mis_id": record.mis_id}
        # The keys are (pupil, contact) and (pupil, period): an MIS listing one twice keeps the first.
        # A record's fields are its validated values (``__dict__``): copied as they are, not dumped again.
        page.children[pupil_contacts.name].extend(_contact_row(key, c) for c in _first_by(record.contacts, "mis_id"))
        for table, items in ((pupil_medical, record.medical), (pupil_sen, record.sen),
                             (pupil_alerts, record.alerts),
                             (pupil_attendance, _first_by(record.attendance, "period"))):
            page.children[table.name].extend({**key, **item.__dict__} for item in items)
    return page


def _contact_row(key: dict[str, str], contact: ContactRecord) -> dict[str, Any]:
    row = {**key, **contact.__dict__, "contact_mis_id": contact.mis_id, "phones": list(contact.phones)}
    del row["mis_id"]
    return row


def write_pupils(conn: Connection, school_id: str, batch: Sequence[Any] | PageRows, result: SchoolResult,
                 now: datetime) -> None:
    """Upsert one page of pupils with their background; quarantine the page's bad records.

    A record is matched to the pupil it updates by the feed's id, else (a school that changed MIS, a pupil
    re-enrolled) by UPI or UPN: the pupil keeps our key, and with it every visit made about them.
    """
    page = batch if isinstance(batch, PageRows) else page_rows(school_id, batch, now)
    quarantine_records(conn, school_id, page.rejected, result, now)
    if not page.pupils:
        return
    sources = [row["source_id"] for row in page.pupils]
    keys = link_pupils(conn, school_id, page.pupils)
    for row in page.pupils:
        row["mis_id"] = keys.get(row["source_id"], row["source_id"])
    for rows in page.children.values():
        for child in rows:
            child["pupil_mis_id"] = keys.get(child["pupil_mis_id"], child["pupil_mis_id"])
    ids = [row["mis_id"] for row in page.pupils]
    existing = {row.mis_id: row for row in conn.execute(
        select(pupils.c.mis_id, pupils.c.source_id, pupils.c.mis_updated_at, pupils.c.archived_at)
        .where(pupils.c.school_id == school_id, pupils.c.mis_id.in_(ids)))}
    new = [row for row in page.pupils if row["mis_id"] not in existing]
    old = [{**row, "_school": school_id, "_mis": row["mis_id"]} for row in page.pupils if row["mis_id"] in existing]
    insert_rows(conn, pupils, new)
    if old:
        conn.execute(update(pupils).where(pupils.c.school_id == bindparam("_school"),
                                          pupils.c.mis_id == bindparam("_mis")), old)
    relinked = [row for row in old if existing[row["mis_id"]].source_id != row["source_id"]]
    if relinked:
        log.warning("school %s: %d pupil(s) came back under new MIS ids and were re-linked by UPI or UPN, "
                    "keeping their visits", school_id, len(relinked))
    result.added += len(new)
    # Asked again because of the cursor's overlap, but unchanged in the MIS: rewritten, not counted.
    result.updated += sum(1 for row in old if _changed(existing[row["mis_id"]], row))
    alerts_before = alert_sets.held(conn, school_id, existing)
    alerts_replaced: list[str] = []
    for table in CHILD_TABLES:
        section = SECTION_OF_TABLE.get(table.name)
        # A stored pupil whose section came unreadable or not at all keeps its last whole rows of it.
        kept = {row["mis_id"] for row in page.pupils
                if row["mis_id"] in existing and (row.get("gaps") or {}).get(section) in HALF_READ}
        replaced = [key for key in ids if key not in kept]
        if existing and replaced:  # a page of new pupils has nothing to replace
            conn.execute(delete(table).where(table.c.school_id == school_id, table.c.pupil_mis_id.in_(replaced)))
        rows = [row for row in page.children.get(table.name, ()) if row["pupil_mis_id"] not in kept]
        insert_rows(conn, table, rows)
        if table is pupil_alerts:
            alerts_replaced = replaced
    audit_alerts(conn, school_id, alerts_before, alerts_replaced, page.children.get(pupil_alerts.name, ()), now)
    conn.execute(update(quarantine)
                 .where(quarantine.c.school_id == school_id, quarantine.c.record_id.in_(sources),
                        quarantine.c.resolved_at.is_(None))
                 .values(resolved_at=now))


def audit_alerts(conn: Connection, school_id: str, before: dict[str, list[alert_sets.Alert]], replaced: Sequence[str],
                 rows: Iterable[dict[str, Any]], now: datetime) -> None:
    """One audit entry for each pupil of ``replaced`` whose alerts the page changed, with the hash of the new set.

    The detail counts the alerts added and removed; the alert text is only in the hash.
    """
    after: dict[str, list[alert_sets.Alert]] = {pupil: [] for pupil in replaced}
    for row in rows:
        if row["pupil_mis_id"] in after:
            after[row["pupil_mis_id"]].append((row["kind"], row["text"]))
    with audit.batched(conn):
        for pupil, alerts in after.items():
            held = before.get(pupil)
            if not alerts and not held:
                continue  # most pupils: no alerts before or after
            was, now_held = Counter(held or ()), Counter(alerts)
            if was == now_held:
                continue
            audit.append(conn, actor=humanize.SYNC, action=alert_sets.ACTION, school_id=school_id, at=now,
                         detail={"pupil": pupil, "alerts": len(alerts), "added": (now_held - was).total(),
                                 "removed": (was - now_held).total()},
                         records=alert_sets.record(pupil, alert_sets.set_hash(alerts)))


def link_pupils(conn: Connection, school_id: str, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The feed id of each incoming pupil row → our key for a pupil already stored, where there is one.

    Matched by the feed's id; failing that by UPI (kept when a pupil is re-enrolled), then by UPN (kept
    when the school changes MIS, which gives every pupil new ids) — only where exactly one stored pupil
    matches and that pupil is not on this page under its own id.
    """
    sources = [row["source_id"] for row in rows]
    keys = {r.source_id: r.mis_id for r in conn.execute(
        select(pupils.c.source_id, pupils.c.mis_id)
        .where(pupils.c.school_id == school_id, pupils.c.source_id.in_(sources)))}
    taken = set(keys.values())
    for column in ("upi", "upn"):
        strangers = [row for row in rows if row["source_id"] not in keys and row.get(column)]
        if not strangers:
            continue
        found: dict[str, set[str]] = {}
        for r in conn.execute(select(pupils.c.mis_id, pupils.c[column])
                              .where(pupils.c.school_id == school_id,
                                     pupils.c[column].in_({row[column] for row in strangers}))):
            found.setdefault(r[1], set()).add(r.mis_id)
        for row in strangers:
            match = found.get(row[column], set()) - taken
            if len(match) == 1 and len(found[row[column]]) == 1:
                keys[row["source_id"]] = key = match.pop()
                taken.add(key)
    return keys


def _changed(before: Any, row: dict[str, Any]) -> bool:
    return (before.archived_at is not None or row["mis_updated_at"] is None
            or before.mis_updated_at != row["mis_updated_at"] or before.source_id != row["source_id"])


def _pupil_row(school_id: str, record: PupilRecord, now: datetime) -> dict[str, Any]:
    return {
        "school_id": school_id, "mis_id": record.mis_id, "source_id": record.mis_id, "native_id": record.native_id,
        "upi": record.upi, "upn": record.upn, "forename": record.forename,
        "surname": record.surname, "display_name": record.display_name, "date_of_birth": record.date_of_birth,
        "year_group": record.year_group, "address": record.address, "address_text": record.address_text,
        "phones": list(record.phones), "mis_updated_at": record.mis_updated_at, "synced_at": now,
        "archived_at": None, "gaps": dict(record.gaps) or None,
    }


def _first_by(items: Iterable[Any], attribute: str) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(getattr(item, attribute), item)
    return list(seen.values())


def apply_departures(conn: Connection, school_id: str, batch: Sequence[Any], result: SchoolResult,
                     now: datetime) -> None:
    """Archive pupils who left (or bring back the restored); drop deleted contacts from their pupils."""
    quarantine_records(conn, school_id, [item for item in batch if isinstance(item, Rejected)], result, now)
    for item in batch:
        if not isinstance(item, Departure):
            continue
        if item.kind == "pupil":
            here = and_(pupils.c.school_id == school_id, pupils.c.source_id == item.mis_id)
            if item.restored:
                conn.execute(update(pupils).where(here, pupils.c.archived_at.is_not(None)).values(archived_at=None))
            else:
                done = conn.execute(update(pupils).where(here, pupils.c.archived_at.is_(None))
                                    .values(archived_at=item.at or now))
                result.archived += done.rowcount
        elif item.kind == "contact" and not item.restored:
            conn.execute(delete(pupil_contacts).where(pupil_contacts.c.school_id == school_id,
                                                      pupil_contacts.c.contact_mis_id == item.mis_id))


def clear_marks(conn: Connection, school_id: str, days: MarkDays) -> None:
    """Drop the school's marks no figure reads any more and, when the walk replaces them, those it covered."""
    day = pupil_session_marks.c.day
    conn.execute(delete(pupil_session_marks).where(pupil_session_marks.c.school_id == school_id,
                                                   day <= days.last if days.replace else day < days.first))


@dataclass
class MarkRows:
    """One page of session marks as compact rows to spool: ``(pupil, day ordinal, session, code, meaning)``."""

    rows: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def mark_rows(batch: Sequence[Any]) -> MarkRows:
    """A page of :class:`SessionMark` and :class:`Rejected` items as :class:`MarkRows`."""
    return MarkRows(rows=[(m.pupil_mis_id, m.day.toordinal(), m.session, m.code, m.meaning)
                          for m in batch if isinstance(m, SessionMark)],
                    rejected=[item for item in batch if isinstance(item, Rejected)])


_UPSERT_MARK = (
    f"INSERT INTO {pupil_session_marks.name} (school_id, pupil_mis_id, day, session, code, meaning) "
    "VALUES ({0}, {0}, {0}, {0}, {0}, {0}) ON CONFLICT (school_id, pupil_mis_id, day, session) "
    "DO UPDATE SET code = excluded.code, meaning = excluded.meaning"
)
"""SQLite (3.24+) and PostgreSQL share this upsert. Marks are the one write of millions of rows a year, so they go
to the driver as plain tuples: SQLAlchemy's per-row parameter handling was half the cost of writing them."""


def write_marks(conn: Connection, school_id: str, page: MarkRows, days: MarkDays, result: SchoolResult,
                now: datetime) -> None:
    """Write one page of session marks over the ones stored (the last one the MIS gave for a session wins)."""
    quarantine_records(conn, school_id, page.rejected, result, now)
    first, last = days.first.toordinal(), days.last.toordinal()
    # Each day asked for is converted once (a page's marks share a few): ISO text on SQLite, a date on PostgreSQL.
    sqlite = conn.dialect.name == "sqlite"
    day_of = {day: date.fromordinal(day).isoformat() if sqlite else date.fromordinal(day)
              for day in {row[1] for row in page.rows} if first <= day <= last}
    # Upserted one after another in the MIS's order, so a session it gave twice keeps the later mark.
    rows = [(school_id, pupil, day_of[day], session, code, meaning)
            for pupil, day, session, code, meaning in page.rows if day in day_of]
    if rows:
        conn.exec_driver_sql(_UPSERT_MARK.format(placeholder(conn.dialect)), rows)


def archive_unseen(conn: Connection, school_id: str, now: datetime) -> int:
    """After a complete (``--full``) walk: archive pupils on roll that the MIS no longer lists."""
    done = conn.execute(update(pupils)
                        .where(pupils.c.school_id == school_id, pupils.c.archived_at.is_(None),
                               or_(pupils.c.synced_at.is_(None), pupils.c.synced_at < now))
                        .values(archived_at=now))
    return done.rowcount


def quarantine_records(conn: Connection, school_id: str, rejected: Sequence[Rejected], result: SchoolResult,
                       now: datetime) -> None:
    """Keep each bad record in quarantine (one open row per record, its last sighting updated).

    A record is known by its resource and id (by its reason when it has no id). A page's records take one
    query to find their open rows and one each to update, insert and mark the pupils seen, however many
    are bad (a feed whose shape changed can reject every record of every page)."""
    if not rejected:
        return
    latest: dict[tuple[str, str | None, str | None], Rejected] = {}
    for item in rejected:
        latest[(item.resource, item.record_id, None if item.record_id is not None else item.reason)] = item
    ids = {key[1] for key in latest if key[1] is not None}
    reasons = {key[2] for key in latest if key[1] is None}
    q = quarantine.c
    open_rows = conn.execute(select(q.id, q.resource, q.record_id, q.reason).where(
        q.school_id == school_id, q.resolved_at.is_(None),
        or_(q.record_id.in_(ids), and_(q.record_id.is_(None), q.reason.in_(reasons)))))
    rows_of: dict[tuple[str, str | None, str | None], list[int]] = {}
    for row in open_rows:
        key = (row.resource, row.record_id, None if row.record_id is not None else row.reason)
        if key in latest:
            rows_of.setdefault(key, []).append(row.id)
    seen = [{"_id": row_id, "last_seen_at": now, "reason": item.reason, "payload": item.payload}
            for key, item in latest.items() for row_id in rows_of.get(key, ())]
    if seen:
        conn.execute(update(quarantine).where(q.id == bindparam("_id")), seen)
    new = [{"school_id": school_id, "resource": item.resource, "record_id": item.record_id, "reason": item.reason,
            "payload": item.payload, "first_seen_at": now, "last_seen_at": now}
           for key, item in latest.items() if key not in rows_of]
    if new:
        conn.execute(insert(quarantine), new)
    if ids:
        # Seen, though unreadable: a --full run must not take it for a pupil who left.
        conn.execute(update(pupils).where(pupils.c.school_id == school_id, pupils.c.source_id.in_(ids))
                     .values(synced_at=now))
    result.quarantined += len(rejected)
    result.rejected.extend(rejected[:max(0, REPORTED_REJECTS - len(result.rejected))])


def save_cursor(conn: Connection, school_id: str, resource: str, position: str | None, adapter: str,
                now: datetime) -> None:
    """Move one cursor (inside the transaction that wrote what it covers); ``position`` is the adapter's own."""
    here = and_(sync_cursors.c.school_id == school_id, sync_cursors.c.resource == resource)
    values = {"position": position, "adapter": adapter, "last_run_at": now}
    if not conn.execute(update(sync_cursors).where(here).values(**values)).rowcount:
        conn.execute(insert(sync_cursors).values(school_id=school_id, resource=resource, **values))


def insert_run(conn: Connection, result: SchoolResult) -> None:
    conn.execute(insert(sync_runs).values(
        school_id=result.school_id, started_at=result.started_at,
        finished_at=result.started_at + timedelta(seconds=result.seconds), status=result.status,
        added=result.added, updated=result.updated, archived=result.archived, quarantined=result.quarantined,
        requests=result.requests, seconds=round(result.seconds, 3),
        # The words of a failure may be the MIS's or an adapter plugin's: stored as data, as every MIS text is.
        message=neutralise(result.message) or None))


def record_run(store: Store, result: SchoolResult) -> None:
    """Write a run's row on its own (a failed school: nothing else of it was written)."""
    with store.begin() as conn:
        insert_run(conn, result)


# --- reading: hvc sync status and the dashboard ------------------------------------------------------
