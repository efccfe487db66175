"""The CPOMS outbox: every finished visit's record, delivered exactly once or parked with a reason.

::

    visits (finish: reported / cancelled / aborted)
       └─ enqueue_visit_report(conn, …)   same transaction as the visit's change
              outbox row: pending, priority 0 (concern) or 1, payload = VisitReport,
              idempotency key = sha256("hv-connector|" + record id + "|" + revision)
    push(store, sink_for, …)              hvc push, the watch (concerns only)
       claim  pending (due) or sending (lease expired) → sending      one atomic UPDATE
       ask    a record tried before (timeout, dropped, crash) is looked up in CPOMS
              by its reference first: found → sent, "already there"
       send   sink.submit(report, key) → sent + CPOMS id
              SinkRefused     → parked with the receiver's reason (never dropped; `hvc outbox retry`)
              SinkUnavailable → pending again, next try after a back-off (asks first if the outcome is unknown)
              awaiting_entry  → awaiting-entry: written for the DSL team to enter by hand (the manual sink)
              status "tray"   → in-tray: in CPOMS unmatched, for the DSL team to attach (never sent again)
    confirm(store, id, ref=, by=)         the DSL team entered it in CPOMS as record N (awaiting-entry → sent),
                                          or attached incident N to the pupil (in-tray → sent)
    check_doubt(store, id, found=, by=)   a record that may be in CPOMS twice (doubt): the DSL team looked,
                                          found one copy or two (the extra merged); the doubt stays, checked

Exactly once rests on three things together: the stable idempotency key
(a receiver that honours it replays, never duplicates, a key it has seen),
asking by reference before sending a record whose earlier try may have landed
(across pushes here; within one push the CPOMS client does the same before
each retry, as nothing public says CPOMS honours the key), and the claim
(``status='sending'`` with a lease in ``next_attempt_at``, taken by an
``UPDATE … WHERE status=…`` that only one pusher can win, on SQLite and
PostgreSQL alike), so two pushers never send one record at the same time: a
pusher stops trying a record before its lease runs out, and leaves it to the
next try, which asks first.
A pusher killed mid-send leaves its claim to expire; the next push asks CPOMS.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, insert, select, update

from hv_connector.errors import InputError, RefusedError
from hv_connector.models import ReportKind, StaffMember, Visit
from hv_connector.outbox.report import AUTHORISED, Decision, VisitReport, build_reports, revise
from hv_connector.plugins import Policies
from hv_connector.store import Store, audit
from hv_connector.store.rows import (
    CONCERN,
    IN_TRAY,
    ROUTINE,
    TO_CONFIRM,
    DoubtFound,
    OutboxEntry,
    confirmed_as,
)
from hv_connector.store.schema import acknowledgements, escalations, outbox, overrides, staff, visit_events

log = logging.getLogger("hv_connector.outbox")


# --- the sink interface ------------------------------------------------------------------------


# --- writing records ---------------------------------------------------------------------------


def idempotency_key(record_id: str, revision: int) -> str:
    """The key CPOMS deduplicates on: the same record and revision always give the same key."""
    return hashlib.sha256(f"hv-connector|{record_id}|{revision}".encode()).hexdigest()


def enqueue_visit_report(
    conn: Connection,
    policies: Policies,
    visit: Visit,
    kind: ReportKind,
    *,
    now: datetime,
    actor: str = "hv-connector",
    revision: int = 1,
    names: Mapping[str, str] | None = None,
) -> list[int]:
    """Write the finished visit's CPOMS record(s) to the outbox, in the caller's transaction.

    The lifecycle calls this in the same transaction that moves the visit to
    reported, cancelled or aborted, so the record exists if and only if the
    visit finished. A concern raised on the visit adds a second record (priority
    0, alerting the school's DSLs). Calling it again for the same visit, kind and
    revision writes nothing new.

    :param visit: the visit with its outcome; ``visit.id`` must be set.
    :param kind: ``home-visit``, ``attendance``, ``cancelled`` (for cancelled or aborted visits), or
        ``concern`` (the visit's routine record plus the concern record).
    :param now: when the visit finished (the record is due at once).
    :param actor: who finished it, for the audit log.
    :param revision: bump to send a corrected record for the same visit.
    :param names: staff id → name from the school's directory, so the record names who decided (over the
        names the store holds; an id nobody can name is written as it is).
    :returns: the outbox ids of the visit's records, concern first.
    """
    reports = build_reports(
        visit, kind, policies, revision=revision,
        decisions=_recorded_decisions(conn, visit, names or {}), dsl_emails=_dsl_emails(conn, visit.school),
    )
    ids: list[int] = []
    for report in reports:
        key = idempotency_key(report.record_id, report.revision)
        existing = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar()
        if existing is not None:
            ids.append(existing)
            continue
        outbox_id: int = conn.execute(
            insert(outbox).values(
                school_id=visit.school, visit_id=visit.id, kind=report.kind,
                priority=CONCERN if report.kind == "concern" else ROUTINE,
                payload=report.model_dump(mode="json"), idempotency_key=key, status="pending", attempts=0,
                next_attempt_at=now, alert_dsl=report.alert_dsl, created_at=now,
            ).returning(outbox.c.id)
        ).scalar_one()
        audit.append(conn, actor=actor, action="outbox.queued", school_id=visit.school, visit_id=visit.id,
                     detail={"outbox_id": outbox_id, "kind": report.kind, "record_id": report.record_id,
                             "alert_dsl": report.alert_dsl}, at=now)
        ids.append(outbox_id)
    return ids


_DECIDED_EVENTS = {"authorise": AUTHORISED, "extend": "Return time extended"}
"""Lifecycle events that are decisions, and how the report names them (the event's note is the reason)."""


def _recorded_decisions(conn: Connection, visit: Visit, directory: Mapping[str, str]) -> list[Decision]:
    """The decisions on record for the visit, by whom (named) and why, in the order they were taken.

    Authorisation and extensions (with their notes), warnings acknowledged and
    rules overridden; the report adds the cancellation from the outcome.
    """
    names = {**dict(conn.execute(select(staff.c.id, staff.c.name).where(staff.c.school_id == visit.school)).all()),
             **directory}
    decided = [
        (r.at, Decision(what=_DECIDED_EVENTS[r.event], by=_by_name(names, r.actor), at=r.at,
                        reason=r.note or ""))
        for r in conn.execute(select(visit_events).where(
            visit_events.c.visit_id == visit.id, visit_events.c.event.in_(_DECIDED_EVENTS)))
    ]
    for table, what, why in ((acknowledgements, "Warning {} acknowledged", "note"),
                             (overrides, "Policy rule {} overridden", "reason")):
        decided += [(r.at, Decision(what=what.format(r.rule_id), by=_by_name(names, r.by), at=r.at,
                                    reason=getattr(r, why) or ""))
                    for r in conn.execute(select(table).where(table.c.visit_id == visit.id))]
    return [decision for _at, decision in sorted(decided, key=lambda pair: pair[0])]


UNNAMED = "someone not in the school's staff directory"
"""Who took a decision whose staff id the directory no longer has: a report names people, never ids."""


def _by_name(names: Mapping[str, str], staff_id: str | None) -> str:
    return names.get(staff_id or "", UNNAMED) if staff_id else ""


def _dsl_emails(conn: Connection, school_id: str) -> list[str]:
    rows = conn.execute(select(staff.c.email, staff.c.roles).where(
        staff.c.school_id == school_id, staff.c.active.is_(True), staff.c.email.is_not(None)))
    return sorted({r.email for r in rows if "dsl" in (r.roles or [])})


# --- reading records ---------------------------------------------------------------------------

class OutboxRecord(OutboxEntry):
    """One outbox row with its payload, as ``hvc outbox show`` and a retry see it (lists read :mod:`hv_connector.read.queries`)."""

    payload: dict[str, Any] = Field(repr=False)

    @property
    def report(self) -> VisitReport:
        return VisitReport.model_validate(self.payload)

    def summary(self) -> dict[str, Any]:
        """The row without its payload, as JSON-ready values."""
        data = self.model_dump(exclude={"payload"})
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def record_from_row(row: Any) -> OutboxRecord:
    """The outbox record in an ``outbox`` row."""
    return OutboxRecord.model_validate({name: row._mapping[name] for name in OutboxRecord.model_fields})


def get_record(conn: Connection, outbox_id: int) -> OutboxRecord:
    """One record, or :class:`InputError` naming how to find the right id."""
    row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).first()
    if row is None:
        raise InputError(f"there is no outbox record {outbox_id}: `hvc outbox list` shows the ids")
    return record_from_row(row)


def visit_records(conn: Connection, visit_id: str) -> list[VisitReport]:
    """The records a finished visit left in the outbox, latest revision of each, the concern first."""
    rows = conn.execute(select(outbox.c.payload).where(outbox.c.visit_id == visit_id)
                        .order_by(outbox.c.priority, outbox.c.id)).scalars()
    latest: dict[str, VisitReport] = {}
    for report in (VisitReport.model_validate(payload) for payload in rows):
        if report.record_id not in latest or report.revision > latest[report.record_id].revision:
            latest[report.record_id] = report
    return list(latest.values())


def retry(
    store: Store, outbox_id: int, *, actor: str, now: datetime, fixed_payload: Mapping[str, Any] | None = None
) -> OutboxRecord:
    """Put a parked record back in the queue (audited), optionally with a corrected report.

    The retried record gets the next revision, so a new idempotency key: CPOMS
    remembers the refused body under the old key and would refuse it again. The
    revision follows the stored one, whatever revision a corrected payload
    carries (it is often saved before an earlier retry). It
    keeps its attempts, so the next push still asks CPOMS by reference before
    sending. A record that is not parked is refused, naming its status.
    """
    with store.begin() as conn:
        record = get_record(conn, outbox_id)
        if record.status != "parked":
            then = (f"it is never sent again: it is done once the DSL team confirms it entered in CPOMS, or attached "
                    f"from CPOMS's tray (`hvc outbox confirm {outbox_id} --ref N --as STAFF`)"
                    if record.status in TO_CONFIRM else "a waiting record is retried by the next `hvc push`")
            raise RefusedError(
                f"outbox record {outbox_id} is {record.status}, not parked: only a record CPOMS refused can be "
                f"retried ({then})"
            )
        try:
            report = VisitReport.model_validate(fixed_payload if fixed_payload is not None else record.payload)
        except ValueError as exc:
            raise InputError(f"the corrected report for outbox record {outbox_id} is not valid: {exc}") from None
        report = revise(report, max(report.revision, record.report.revision) + 1)
        conn.execute(
            update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "parked").values(
                status="pending", next_attempt_at=now, payload=report.model_dump(mode="json"),
                idempotency_key=idempotency_key(report.record_id, report.revision),
            )
        )
        audit.append(conn, actor=actor, action="outbox.retry", school_id=record.school_id, visit_id=record.visit_id,
                     detail={"outbox_id": outbox_id, "revision": report.revision,
                             "corrected": fixed_payload is not None, "parked_for": record.last_error}, at=now)
        return get_record(conn, outbox_id)


UNCONFIRMED_ALARM = "entry-unconfirmed:{}"
"""The watch's alarm key for an outbox record not confirmed as entered or attached (see :mod:`hv_connector.watch.entry`)."""

CONFIRMERS = ("dsl", "deputy-dsl")
"""Roles that may confirm a record was entered in CPOMS: the DSL team."""


def _require_dsl_team(by: StaffMember, what: str) -> None:
    """Refuse ``by`` unless they are on the DSL team (:data:`CONFIRMERS`), the only people who ``what``."""
    if not set(by.roles) & set(CONFIRMERS):
        raise RefusedError(f"{by.name} is not on the DSL team ({', '.join(CONFIRMERS)}): only the DSL team {what}")


def confirm(store: Store, outbox_id: int, *, ref: str, by: StaffMember, now: datetime) -> OutboxRecord:
    """Record that the DSL team entered record ``outbox_id`` in CPOMS as ``ref``, or, for a record in CPOMS's
    Incident Tray, attached incident ``ref`` to the pupil: only now is it done (audited).

    Closes the watch's alarm for it, if one fired. A record neither awaiting entry nor in the tray, a member
    outside the DSL team, or an empty reference is refused, naming what to do.
    """
    ref = ref.strip()
    if not ref or len(ref) > 64 or not ref.isprintable():
        raise InputError(f"--ref {ref!r} is not a CPOMS record number: give the number CPOMS shows for the "
                         "new incident (e.g. --ref 10422)")
    _require_dsl_team(by, "confirms a record was entered in CPOMS")
    with store.begin() as conn:
        record = get_record(conn, outbox_id)
        if record.status not in TO_CONFIRM:
            raise RefusedError(f"outbox record {outbox_id} is {record.status}, not awaiting entry or in CPOMS's "
                               "tray: only a record written for the DSL team to enter (the manual sink), or one "
                               "CPOMS left unmatched in its Incident Tray, is confirmed by hand")
        attached = record.status == IN_TRAY
        changed = conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == record.status)
                               .values(status="sent", cpoms_id=ref, sent_at=now, last_error=None)).rowcount
        if changed != 1:  # another confirmation took it between our read and this write (PostgreSQL)
            now_is = get_record(conn, outbox_id)
            raise RefusedError(f"outbox record {outbox_id} is {now_is.status}: someone confirmed it just now; see "
                               f"`hvc outbox show {outbox_id}`")
        done = confirmed_as(ref, attached=attached)
        conn.execute(update(escalations).where(escalations.c.key == UNCONFIRMED_ALARM.format(outbox_id),
                                               escalations.c.closed_at.is_(None))
                     .values(closed_at=now, note=f"{done} (confirmed by {by.name})"))
        audit.append(conn, actor=by.id, action="outbox.confirmed", school_id=record.school_id,
                     visit_id=record.visit_id, detail={"outbox_id": outbox_id, "kind": record.kind, "cpoms_ref": ref,
                                                       "confirmed_by": by.name, **({"attached": True} if attached else {})},
                     at=now)
        return get_record(conn, outbox_id)


def check_doubt(store: Store, outbox_id: int, *, found: DoubtFound, by: StaffMember, now: datetime) -> OutboxRecord:
    """Record that ``by`` looked in CPOMS for a second copy of record ``outbox_id``, which may be there twice, and
    found ``one`` copy, or ``two`` and merged or removed the extra one: it is no longer marked to check (audited as
    ``outbox.twice-checked``, in the same transaction). The doubt itself stays on the row, for its history.

    A record with no doubt, one already checked, or a member outside the DSL team is refused, naming why.
    """
    _require_dsl_team(by, "says what CPOMS holds")
    with store.begin() as conn:
        record = get_record(conn, outbox_id)
        if record.doubt is None:
            raise RefusedError(f"outbox record {outbox_id} is not marked as maybe in CPOMS twice: there is nothing to "
                               "check (`hvc outbox list` marks the records that are)")
        if record.checked is not None:
            raise RefusedError(f"outbox record {outbox_id} was {record.checked}; it is checked once (see "
                               f"`hvc outbox show {outbox_id}`)")
        changed = conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.doubt_checked_at.is_(None))
                               .values(doubt_checked_by=by.name, doubt_checked_at=now, doubt_found=found)).rowcount
        if changed != 1:  # another check took it between our read and this write (PostgreSQL)
            raise RefusedError(f"outbox record {outbox_id} was checked just now by someone else; see "
                               f"`hvc outbox show {outbox_id}`")
        audit.append(conn, actor=by.id, action="outbox.twice-checked", school_id=record.school_id,
                     visit_id=record.visit_id, detail={"outbox_id": outbox_id, "kind": record.kind,
                                                       "cpoms_id": record.cpoms_id, "found": found,
                                                       "checked_by": by.name}, at=now)
        return get_record(conn, outbox_id)
