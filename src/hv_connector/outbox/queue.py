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
              CpomsRejected   → parked with CPOMS's reason (never dropped; `hvc outbox retry`)
              CpomsUnavailable → pending again, next try after a back-off

Exactly once rests on three things together: the stable idempotency key
(CPOMS replays, never duplicates, a key it has seen), asking by reference
before sending a record whose earlier try may have landed, and the claim
(``status='sending'`` with a lease in ``next_attempt_at``, taken by an
``UPDATE … WHERE status=…`` that only one pusher can win, on SQLite and
PostgreSQL alike), so two pushers never send one record at the same time.
A pusher killed mid-send leaves its claim to expire; the next push asks CPOMS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from hv_connector.store import audit
from hv_connector.errors import ConfigError, CpomsRejected, CpomsUnavailable, HvcError, InputError, RefusedError
from hv_connector.models import ReportKind, Visit
from hv_connector.plugins import Policies
from hv_connector.outbox.report import AUTHORISED, Decision, VisitReport, build_reports, revise
from hv_connector.store import Store
from hv_connector.store.schema import acknowledgements, outbox, overrides, staff, visit_events

log = logging.getLogger(__name__)

CONCERN, ROUTINE = 0, 1
"""Outbox priorities: a safeguarding concern goes before every routine report."""

DEFAULT_LEASE = timedelta(minutes=5)
"""How long a claimed record is held before another pusher may take it over (and ask CPOMS first)."""

ACTOR = "hvc push"


# --- the sink interface ------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where a record landed: the remote id, and whether it was there before this push sent it."""

    remote_id: str
    already_there: bool = False
    status: str = "recorded"
    """The remote system's word for it (CPOMS: ``recorded``, or ``tray`` when awaiting a match)."""


class ReportSink(Protocol):
    """Where finished-visit records go: CPOMS by default, any other system by plugin.

    A sink is an async context manager, opened once per push for one school.
    It raises :class:`~hv_connector.errors.CpomsRejected` for a refusal (the
    record is parked with the message) and
    :class:`~hv_connector.errors.CpomsUnavailable` for anything worth trying
    again (the record waits). Register a factory ``factory(settings, school)``
    through the ``report_sinks`` hook.
    """

    async def __aenter__(self) -> ReportSink: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def find(self, report: VisitReport) -> Delivery | None:
        """The record already in the remote system under ``report.record_id``, or ``None``."""
        ...

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        """Send ``report``; the same key must never make a second record."""
        ...


SinkFor = Callable[[str], ReportSink]
"""Given a school id, a (not yet opened) sink for it; raises ConfigError when the school has none."""


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
    :returns: the outbox ids of the visit's records, concern first.
    """
    reports = build_reports(
        visit, kind, policies, revision=revision,
        decisions=_recorded_decisions(conn, visit), dsl_emails=_dsl_emails(conn, visit.school),
    )
    ids: list[int] = []
    for report in reports:
        key = idempotency_key(report.record_id, report.revision)
        existing = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar()
        if existing is not None:
            ids.append(existing)
            continue
        outbox_id = conn.execute(
            insert(outbox).values(
                school_id=visit.school, visit_id=visit.id, kind=report.kind,
                priority=CONCERN if report.kind == "concern" else ROUTINE,
                payload=report.model_dump(mode="json"), idempotency_key=key, status="pending", attempts=0,
                next_attempt_at=now, alert_dsl=report.alert_dsl, created_at=now,
            )
        ).inserted_primary_key[0]
        audit.append(conn, actor=actor, action="outbox.queued", school_id=visit.school, visit_id=visit.id,
                     detail={"outbox_id": outbox_id, "kind": report.kind, "record_id": report.record_id,
                             "alert_dsl": report.alert_dsl}, at=now)
        ids.append(outbox_id)
    return ids


_DECIDED_EVENTS = {"authorise": AUTHORISED, "extend": "Return time extended"}
"""Lifecycle events that are decisions, and how the report names them (the event's note is the reason)."""


def _recorded_decisions(conn: Connection, visit: Visit) -> list[Decision]:
    """The decisions on record for the visit, by whom (named) and why, in the order they were taken.

    Authorisation and extensions (with their notes), warnings acknowledged and
    rules overridden; the report adds the cancellation from the outcome.
    """
    names = dict(conn.execute(select(staff.c.id, staff.c.name).where(staff.c.school_id == visit.school)).all())
    decided = [
        (r.at, Decision(what=_DECIDED_EVENTS[r.event], by=names.get(r.actor, r.actor or ""), at=r.at,
                        reason=r.note or ""))
        for r in conn.execute(select(visit_events).where(
            visit_events.c.visit_id == visit.id, visit_events.c.event.in_(_DECIDED_EVENTS)))
    ]
    for table, what, why in ((acknowledgements, "Warning {} acknowledged", "note"),
                             (overrides, "Policy rule {} overridden", "reason")):
        decided += [(r.at, Decision(what=what.format(r.rule_id), by=names.get(r.by, r.by), at=r.at,
                                    reason=getattr(r, why) or ""))
                    for r in conn.execute(select(table).where(table.c.visit_id == visit.id))]
    return [decision for _at, decision in sorted(decided, key=lambda pair: pair[0])]


def _dsl_emails(conn: Connection, school_id: str) -> list[str]:
    rows = conn.execute(select(staff.c.email, staff.c.roles).where(
        staff.c.school_id == school_id, staff.c.active.is_(True), staff.c.email.is_not(None)))
    return sorted({r.email for r in rows if "dsl" in (r.roles or [])})


# --- reading records ---------------------------------------------------------------------------

Status = Literal["pending", "sending", "sent", "parked"]


@dataclass(frozen=True)
class OutboxRecord:
    """One outbox row, as ``hvc outbox list|show`` and the dashboard see it."""

    id: int
    school_id: str
    visit_id: str | None
    kind: str
    priority: int
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    cpoms_id: str | None
    alert_dsl: bool
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any] = field(repr=False)

    @property
    def report(self) -> VisitReport:
        return VisitReport.model_validate(self.payload)

    def summary(self) -> dict[str, Any]:
        """The row without its payload, as JSON-ready values."""
        data = {k: v for k, v in self.__dict__.items() if k != "payload"}
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def _record(row: Any) -> OutboxRecord:
    return OutboxRecord(**{name: row._mapping[name] for name in OutboxRecord.__dataclass_fields__})


def list_records(conn: Connection, *, status: str | None = None, school: str | None = None) -> list[OutboxRecord]:
    """Records in delivery order (concerns first, oldest first), optionally of one status or school."""
    query = select(outbox).order_by(outbox.c.priority, outbox.c.created_at, outbox.c.id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    if school is not None:
        query = query.where(outbox.c.school_id == school)
    return [_record(row) for row in conn.execute(query)]


def get_record(conn: Connection, outbox_id: int) -> OutboxRecord:
    """One record, or :class:`InputError` naming how to find the right id."""
    row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).first()
    if row is None:
        raise InputError(f"there is no outbox record {outbox_id}: `hvc outbox list` shows the ids")
    return _record(row)


def counts(conn: Connection) -> dict[str, int]:
    """How many records are in each status."""
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {status: n for status, n in rows}


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
            raise RefusedError(
                f"outbox record {outbox_id} is {record.status}, not parked: only a record CPOMS refused can be "
                "retried (a waiting record is retried by the next `hvc push`)"
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


# --- pushing -------------------------------------------------------------------------------------

Result = Literal["sent", "already-there", "parked", "waiting"]


@dataclass(frozen=True)
class Outcome:
    """What one push did with one record."""

    outbox_id: int
    school_id: str
    kind: str
    result: Result
    remote_id: str | None = None
    message: str = ""


@dataclass
class PushSummary:
    """Every record one push touched, by result."""

    outcomes: list[Outcome] = field(default_factory=list)
    config_errors: list[str] = field(default_factory=list)

    def count(self, result: Result) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def exit_code(self) -> int:
        """0 all delivered; 1 something waits or was parked by this push; 2 a school's CPOMS is misconfigured."""
        if self.config_errors:
            return 2
        return 1 if any(o.result in ("waiting", "parked") for o in self.outcomes) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            **{r: self.count(r) for r in ("sent", "already-there", "parked", "waiting")},
            "config_errors": self.config_errors,
            "records": [o.__dict__ for o in self.outcomes],
        }


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long a record that could not be delivered waits: 30 s doubling per attempt, at most an hour."""
    wait = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(wait, retry_after or 0.0))


def _due(now: datetime, school: str | None, concerns_only: bool, ignore_backoff: bool) -> Any:
    pending = outbox.c.status == "pending"
    if not ignore_backoff:
        pending = and_(pending, or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
    stale = and_(outbox.c.status == "sending", outbox.c.next_attempt_at <= now)
    query = select(outbox).where(or_(pending, stale))
    if school is not None:
        query = query.where(outbox.c.school_id == school)
    if concerns_only:
        query = query.where(outbox.c.priority == CONCERN)
    return query.order_by(outbox.c.priority, outbox.c.created_at, outbox.c.id)


@dataclass(frozen=True)
class _Settlement:
    """A delivery's result, waiting to be written with others in one transaction."""

    record: OutboxRecord
    attempt: int
    values: dict[str, Any]
    action: str
    detail: dict[str, Any]
    outcome: Outcome
    log_level: int
    log_message: str


class Pusher:
    """One push run: claims due records and delivers them through each school's sink.

    Claims and results are written in batches (one transaction for up to
    ``concurrency`` records), so the store's commits do not pace the push. A
    result not yet written when the process dies leaves its record claimed;
    the next push asks CPOMS before sending it again.

    :param store: the store.
    :param sink_for: builds a school's sink (see :data:`SinkFor`).
    :param now: the clock.
    :param concurrency: records in flight at once, across schools (each sink also rate-limits its token).
    :param lease: how long a claim holds before another pusher may take the record over.
    :param on_outcome: called after each record's result is written (progress bars, log lines).
    """

    FLUSH_SECONDS = 0.05
    """Longest a result waits before it is written."""

    def __init__(
        self,
        store: Store,
        sink_for: SinkFor,
        *,
        now: Callable[[], datetime],
        concurrency: int = 8,
        lease: timedelta = DEFAULT_LEASE,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.store, self.sink_for, self.now = store, sink_for, now
        self.concurrency, self.lease = concurrency, lease
        self.on_outcome = on_outcome or (lambda _outcome: None)

    def due(self, *, school: str | None = None, concerns_only: bool = False, ignore_backoff: bool = False,
            limit: int | None = None) -> list[OutboxRecord]:
        """The records this push would try, in the order it tries them."""
        query = _due(self.now(), school, concerns_only, ignore_backoff)
        if limit is not None:
            query = query.limit(limit)
        with self.store.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    async def run(self, *, school: str | None = None, concerns_only: bool = False,
                  ignore_backoff: bool = False, limit: int | None = None) -> PushSummary:
        """Deliver what is due (concerns first, then routine, oldest first)."""
        summary = PushSummary()
        records = self.due(school=school, concerns_only=concerns_only, ignore_backoff=ignore_backoff, limit=limit)
        if not records:
            return summary
        async with AsyncExitStack() as stack:
            sinks: dict[str, ReportSink] = {}
            for school_id in dict.fromkeys(r.school_id for r in records):
                sink = await self._open(stack, school_id, summary)
                if sink is not None:
                    sinks[school_id] = sink
            deliverable = [r for r in records if r.school_id in sinks]
            # Every concern is settled before the first routine report starts.
            for priority in sorted({r.priority for r in deliverable}):
                await self._deliver_all([r for r in deliverable if r.priority == priority], sinks, summary)
        return summary

    async def _open(self, stack: AsyncExitStack, school_id: str, summary: PushSummary) -> ReportSink | None:
        try:
            return await stack.enter_async_context(self.sink_for(school_id))
        except HvcError as exc:
            # One school's missing token must not hold back another school's concern.
            summary.config_errors.append(f"school {school_id!r}: {exc}")
            log.error("cannot push school %s: %s", school_id, exc)
            return None

    async def _deliver_all(self, records: list[OutboxRecord], sinks: dict[str, ReportSink],
                           summary: PushSummary) -> None:
        """Claim a batch while the one before is in flight; deliver; write results in batches."""
        settled: list[_Settlement] = []
        gate = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task[None]] = []

        async def deliver(record: OutboxRecord, attempt: int) -> None:
            try:
                settled.append(await self._deliver(sinks[record.school_id], record, attempt))
            finally:
                gate.release()

        async def flusher() -> None:
            while True:
                await asyncio.sleep(self.FLUSH_SECONDS)
                self._write(settled, summary)

        flushing = asyncio.create_task(flusher())
        try:
            for start in range(0, len(records), self.concurrency):
                for record, attempt in self._claim(records[start:start + self.concurrency]):
                    await gate.acquire()
                    tasks.append(asyncio.create_task(deliver(record, attempt)))
            await asyncio.gather(*tasks)
        finally:
            flushing.cancel()
            self._write(settled, summary)

    # -- the store: claims and results, a batch per transaction --

    def _claim(self, records: list[OutboxRecord]) -> list[tuple[OutboxRecord, int]]:
        """Take each record that is still pending and due (or whose lease lapsed): (record, attempt number)."""
        now = self.now()
        takeable = or_(outbox.c.status == "pending", and_(outbox.c.status == "sending", outbox.c.next_attempt_at <= now))
        taken: list[tuple[OutboxRecord, int]] = []
        with self.store.begin() as conn:
            for record in records:
                claimed = conn.execute(
                    update(outbox)
                    .where(outbox.c.id == record.id, outbox.c.attempts == record.attempts, takeable)
                    .values(status="sending", attempts=record.attempts + 1, next_attempt_at=now + self.lease)
                ).rowcount
                if claimed == 1:  # otherwise another pusher has it
                    taken.append((record, record.attempts + 1))
        return taken

    def _write(self, settled: list[_Settlement], summary: PushSummary) -> None:
        """Write the results gathered so far, where our claim still stands, in one transaction."""
        if not settled:
            return
        batch, settled[:] = list(settled), []
        now = self.now()
        written: list[_Settlement] = []
        with self.store.begin() as conn:
            for item in batch:
                record = item.record
                mine = (outbox.c.id == record.id, outbox.c.status == "sending", outbox.c.attempts == item.attempt)
                if conn.execute(update(outbox).where(*mine).values(**item.values)).rowcount != 1:
                    continue  # another pusher took the record over after our lease lapsed
                if item.action:
                    audit.append(conn, actor=ACTOR, action=item.action, school_id=record.school_id,
                                 visit_id=record.visit_id, detail={"outbox_id": record.id, "kind": record.kind,
                                                                   **item.detail}, at=now)
                written.append(item)
        for item in written:
            log.log(item.log_level, item.log_message)
            summary.outcomes.append(item.outcome)
            self.on_outcome(item.outcome)

    # -- one record --

    async def _deliver(self, sink: ReportSink, record: OutboxRecord, attempt: int) -> _Settlement:
        report = record.report
        where = f"outbox record {record.id} ({record.school_id}, {record.kind})"
        try:
            found = await sink.find(report) if attempt > 1 else None
            delivery = found or await sink.submit(report, record.idempotency_key)
        except CpomsRejected as exc:
            reason = str(exc)
            return _Settlement(record, attempt, {"status": "parked", "last_error": reason, "next_attempt_at": None},
                               "outbox.parked", {"reason": reason, "details": exc.details},
                               Outcome(record.id, record.school_id, record.kind, "parked", message=reason),
                               logging.WARNING, f"parked {where}: {reason}")
        except CpomsUnavailable as exc:
            return self._waiting(record, attempt, where, str(exc), exc.retry_after)
        except Exception as exc:  # a bug or an unforeseen failure must not lose the record
            log.exception("%s failed unexpectedly", where)
            return self._waiting(record, attempt, where, f"unexpected {type(exc).__name__}: {exc}", None)
        already = found is not None or delivery.already_there
        values = {"status": "sent", "cpoms_id": delivery.remote_id, "sent_at": self.now(), "last_error": None,
                  "next_attempt_at": None}
        # Delivery is the machine's doing, kept on the outbox row (sent_at, cpoms_id); the audit log
        # keeps what people and policies decided: the record queued, parked, retried.
        return _Settlement(
            record, attempt, values, "", {},
            Outcome(record.id, record.school_id, record.kind, "already-there" if already else "sent",
                    remote_id=delivery.remote_id),
            logging.INFO,
            f"{where} {'was already in CPOMS' if already else 'sent'} as CPOMS incident {delivery.remote_id}",
        )

    def _waiting(self, record: OutboxRecord, attempt: int, where: str, reason: str,
                 retry_after: float | None) -> _Settlement:
        retry_at = self.now() + backoff(attempt, retry_after)
        return _Settlement(record, attempt, {"status": "pending", "last_error": reason, "next_attempt_at": retry_at},
                           "", {}, Outcome(record.id, record.school_id, record.kind, "waiting", message=reason),
                           logging.WARNING, f"{where} waits until {retry_at.isoformat(timespec='seconds')}: {reason}")


def open_sinks(settings: Any, registry: Mapping[str, Callable[..., ReportSink]], schools: Iterable[Any]) -> SinkFor:
    """A :data:`SinkFor` that builds each configured school's sink from the ``report_sinks`` registry."""
    by_id = {school.id: school for school in schools}

    def sink_for(school_id: str) -> ReportSink:
        school = by_id.get(school_id)
        if school is None:
            raise ConfigError(f"school {school_id!r} has outbox records but is not configured: add it under "
                              "[schools] in hvc.toml")
        name = getattr(getattr(school, "cpoms", None), "sink", None) or "cpoms"
        factory = registry.get(name)
        if factory is None:
            raise ConfigError(f"school {school_id!r} uses report sink {name!r}, which no installed plugin provides "
                              f"(installed: {', '.join(sorted(registry)) or 'none'})")
        return factory(settings, school)

    return sink_for
