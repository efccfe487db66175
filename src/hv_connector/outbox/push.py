"""``hvc push``: claim due outbox records, ask before sending again, deliver to the sink, settle each one.

The claim, the ask-first lookup and the settlement are described in :mod:`hv_connector.outbox.queue`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update

from hv_connector.clients.retry import Backoff
from hv_connector.errors import HvcError, SinkOutcomeUnknown, SinkRefused, SinkUnavailable
from hv_connector.humanize import PUSH
from hv_connector.outbox import pacing
from hv_connector.outbox.entry import attach_command, in_tray
from hv_connector.outbox.queue import OutboxRecord, record_from_row
from hv_connector.outbox.sinks import Delivery, ReportSink, SinkFor
from hv_connector.store import Store, audit
from hv_connector.store.rows import AWAITING_ENTRY, CONCERN, IN_TRAY
from hv_connector.store.schema import outbox
from hv_connector.text import neutralise

log = logging.getLogger("hv_connector.outbox")


DEFAULT_LEASE = timedelta(minutes=5)
"""How long a claimed record is held before another pusher may take it over (and ask the receiver first)."""
LEASE_SHARE = 0.8
"""A push gives up on a record (until the next try, which asks the receiver first) once this share of its lease
has gone."""


ACTOR = PUSH


Result = Literal["sent", "already-there", "written", "in-tray", "parked", "waiting"]


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
        """0 all delivered (or written for entry, or in the receiver's tray); 1 something waits or was parked by this
        push; 2 a sink is misconfigured."""
        if self.config_errors:
            return 2
        return 1 if any(o.result in ("waiting", "parked") for o in self.outcomes) else 0

    def said(self) -> str:
        """The counts in words, as ``hvc push`` ends and the watch logs the concerns it pushed."""
        tray = self.count("in-tray")
        return (f"sent {self.count('sent')}, already there {self.count('already-there')}, "
                f"written for entry {self.count('written')}, "
                + (f"in CPOMS's tray to attach {tray}, " if tray else "")
                + f"parked {self.count('parked')}, waiting {self.count('waiting')}")

    def as_json(self) -> dict[str, Any]:
        return {
            **{r: self.count(r) for r in ("sent", "already-there", "written", "in-tray", "parked", "waiting")},
            "config_errors": self.config_errors,
            "records": [o.__dict__ for o in self.outcomes],
        }


RECORD_BACKOFF = Backoff(initial=30.0, cap=3600.0, jitter=False)
"""A record that could not be delivered waits 30 s doubling per attempt, at most an hour, and at least
CPOMS's Retry-After. No jitter: records wait for the next push run anyway, and `hvc outbox` shows the time."""


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long a record that could not be delivered waits before push tries it again (:data:`RECORD_BACKOFF`)."""
    return timedelta(seconds=RECORD_BACKOFF.delay(attempts, retry_after))


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


def _by_columns(settled: list[_Settlement]) -> dict[tuple[str, ...], list[_Settlement]]:
    """Results grouped by the columns they write, so each group is one executemany UPDATE."""
    groups: dict[tuple[str, ...], list[_Settlement]] = {}
    for item in settled:
        groups.setdefault(tuple(sorted(item.values)), []).append(item)
    return groups


class Pusher:
    """One push run: claims due records and delivers them through each school's sink.

    Each school's records go in their own lane, oldest first, with as many in
    flight as its sink's rate and latency call for (:mod:`hv_connector.outbox.pacing`).
    Claims (one UPDATE per batch) and results (one transaction every
    :attr:`FLUSH_SECONDS`) are written in batches, so the store does not pace the push. A
    result not yet written when the process dies leaves its record claimed;
    the next push asks the receiver before sending it again.

    :param store: the store.
    :param sink_for: builds a school's sink (see :data:`SinkFor`).
    :param now: the clock.
    :param concurrency: at most this many records in flight at once, across schools; ``None`` (the
        default) leaves each school's window to :mod:`hv_connector.outbox.pacing` (its rate × its latency).
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
        concurrency: int | None = None,
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
            return [record_from_row(row) for row in conn.execute(query)]

    def count_due(self, *, school: str | None = None, concerns_only: bool = False,
                  ignore_backoff: bool = False) -> int:
        """How many records this push would try (one COUNT, for a progress bar)."""
        query = _due(self.now(), school, concerns_only, ignore_backoff).order_by(None)
        with self.store.connect() as conn:
            return conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()

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

    async def open_each(self, schools: list[str]) -> None:
        """Open and close each school's sink once, so the first record pushed does not wait for what opening
        one loads the first time (certificates, imports): the watch does this at start, for its first concern.
        A school whose sink cannot be opened is left to the push, which says why."""
        for school_id in schools:
            with contextlib.suppress(HvcError):
                async with self.sink_for(school_id):
                    pass

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
        """One lane per school, each keeping its sink's window in flight; results written in batches."""
        settled: list[_Settlement] = []
        gate = asyncio.Semaphore(self.concurrency) if self.concurrency else None
        lanes: dict[str, list[OutboxRecord]] = {}
        for record in records:
            lanes.setdefault(record.school_id, []).append(record)

        async def flusher() -> None:
            while True:
                await asyncio.sleep(self.FLUSH_SECONDS)
                self._write(settled, summary)

        flushing = asyncio.create_task(flusher())
        try:
            await asyncio.gather(*(self._lane(sinks[school], queued, gate, settled)
                                   for school, queued in lanes.items()))
        finally:
            flushing.cancel()
            self._write(settled, summary)

    async def _lane(self, sink: ReportSink, records: list[OutboxRecord], gate: asyncio.Semaphore | None,
                    settled: list[_Settlement]) -> None:
        """Deliver one school's records in order, claiming a batch at a time, :func:`pacing.window` in flight."""
        running: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()

        async def deliver(record: OutboxRecord, attempt: int, deadline: float) -> None:
            try:
                settled.append(await self._deliver(sink, record, attempt, deadline))
            finally:
                if gate is not None:
                    gate.release()

        start = 0
        while start < len(records):
            # Under a cap, claim no more than can start soon: a claimed record waiting for the gate ages its lease.
            batch = records[start:start + min(pacing.claim_batch(sink), self.concurrency or len(records))]
            start += len(batch)
            claimed = self._claim(batch)
            # Stop trying a record before its claim lapses: once it has, another pusher may send it too.
            deadline = loop.time() + self.lease.total_seconds() * LEASE_SHARE
            for record, attempt in claimed:
                while len(running) >= pacing.window(sink):
                    _done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                if gate is not None:
                    await gate.acquire()
                running.add(asyncio.create_task(deliver(record, attempt, deadline)))
        await asyncio.gather(*running)

    # -- the store: claims and results, a batch per transaction --

    def _claim(self, records: list[OutboxRecord]) -> list[tuple[OutboxRecord, int]]:
        """Take, in one UPDATE, each record still as it was read and due (or whose lease lapsed): (record, attempt)."""
        if not records:
            return []
        now = self.now()
        takeable = or_(outbox.c.status == "pending", and_(outbox.c.status == "sending", outbox.c.next_attempt_at <= now))
        as_read = tuple_(outbox.c.id, outbox.c.attempts).in_([(r.id, r.attempts) for r in records])
        with self.store.begin() as conn:
            # Otherwise another pusher has it, or took it and put it back after a try of its own.
            won = set(conn.execute(
                update(outbox).where(as_read, takeable)
                .values(status="sending", attempts=outbox.c.attempts + 1, next_attempt_at=now + self.lease)
                .returning(outbox.c.id)
            ).scalars())
        return [(record, record.attempts + 1) for record in records if record.id in won]

    def _write(self, settled: list[_Settlement], summary: PushSummary) -> None:
        """Write the results gathered so far, where our claim still stands, in one transaction."""
        if not settled:
            return
        batch, settled[:] = list(settled), []
        now = self.now()
        with self.store.begin() as conn:
            ours = set(conn.execute(select(outbox.c.id).where(
                tuple_(outbox.c.id, outbox.c.attempts).in_([(i.record.id, i.attempt) for i in batch]),
                outbox.c.status == "sending").with_for_update()).scalars())
            # A record not ours any more: another pusher took it over after our lease lapsed.
            written = [item for item in batch if item.record.id in ours]
            for values, items in _by_columns(written).items():
                conn.execute(update(outbox).where(outbox.c.id == bindparam("settled_id")).values(
                    {column: bindparam(f"settled_{column}") for column in values}),
                    [{"settled_id": i.record.id, **{f"settled_{c}": v for c, v in i.values.items()}} for i in items])
            with audit.batched(conn):  # one read of the chain's tip and one snapshot of the records for all
                for item in written:
                    if item.action:
                        record = item.record
                        audit.append(conn, actor=ACTOR, action=item.action, school_id=record.school_id,
                                     visit_id=record.visit_id, detail={"outbox_id": record.id, "kind": record.kind,
                                                                       **item.detail}, at=now)
        for item in written:
            log.log(item.log_level, item.log_message)
            summary.outcomes.append(item.outcome)
            self.on_outcome(item.outcome)

    # -- one record --

    async def _deliver(self, sink: ReportSink, record: OutboxRecord, attempt: int, deadline: float) -> _Settlement:
        report = record.report
        where = f"outbox record {record.id} ({record.school_id}, {record.kind})"
        try:
            async with asyncio.timeout_at(deadline):
                found = await sink.find(report) if attempt > 1 else None
                delivery = found or await sink.submit(report, record.idempotency_key)
        except TimeoutError:
            return self._waiting(record, attempt, where, "the receiver did not answer before this push's claim on the "
                                 f"record ran out ({self.lease.total_seconds():g} s lease); the next try asks it first",
                                 None)
        except SinkRefused as exc:
            reason = neutralise(str(exc))  # the receiver's words, stored and shown line by line
            return _Settlement(record, attempt, {"status": "parked", "last_error": reason, "next_attempt_at": None},
                               "outbox.parked", {"reason": reason, "details": exc.details},
                               Outcome(record.id, record.school_id, record.kind, "parked", message=reason),
                               logging.WARNING, f"parked {where}: {reason}")
        except SinkOutcomeUnknown as exc:
            return self._waiting(record, attempt, where, f"{exc} (it may have arrived: the next try asks the receiver "
                                 "by reference before sending again)", exc.retry_after)
        except SinkUnavailable as exc:
            return self._waiting(record, attempt, where, str(exc), exc.retry_after)
        except Exception as exc:  # a bug or an unforeseen failure must not lose the record
            log.exception("%s failed unexpectedly", where)
            return self._waiting(record, attempt, where, f"unexpected {type(exc).__name__}: {exc}", None)
        # The receiver's words (its id for the record, why it may hold it twice) are logged, printed by `hvc push` and
        # stored: neutralised once, here, for every outcome.
        delivery = replace(delivery, remote_id=neutralise(delivery.remote_id),
                           doubt=neutralise(delivery.doubt) if delivery.doubt else None)
        if delivery.awaiting_entry:
            return self._written(record, attempt, where, delivery)
        if delivery.in_tray:
            return self._in_tray(record, attempt, where, delivery)
        already = found is not None or delivery.already_there
        doubt = delivery.doubt  # a possible duplicate is said plainly, and kept
        values = {"status": "sent", "cpoms_id": delivery.remote_id, "sent_at": self.now(), "last_error": None,
                  "next_attempt_at": None, "doubt": doubt}
        said = f"{where} {'was already with the receiver' if already else 'sent'}: the receiver's record {delivery.remote_id}"
        # Delivery is the machine's doing, kept on the outbox row (sent_at, cpoms_id); the audit log
        # keeps what people and policies decided, and what a person must now do: a second copy to look for.
        action, detail = ("outbox.may-be-twice", {"record_id": report.record_id, "cpoms_id": delivery.remote_id,
                                                  "doubt": doubt}) if doubt else ("", {})
        return _Settlement(
            record, attempt, values, action, detail,
            Outcome(record.id, record.school_id, record.kind, "already-there" if already else "sent",
                    remote_id=delivery.remote_id, message=doubt or ""),
            logging.WARNING if doubt else logging.INFO,
            f"{said}; {doubt}" if doubt else said,
        )

    def _written(self, record: OutboxRecord, attempt: int, where: str, delivery: Delivery) -> _Settlement:
        """A record a person must enter by hand: written (audited), and done only once they confirm it."""
        values = {"status": AWAITING_ENTRY, "last_error": None, "next_attempt_at": None}
        return _Settlement(record, attempt, values, "outbox.written", {"written_to": delivery.remote_id},
                           Outcome(record.id, record.school_id, record.kind, "written", remote_id=delivery.remote_id),
                           logging.INFO, f"{where} written for entry by hand as {delivery.remote_id}: "
                           f"`hvc outbox confirm {record.id} --ref N --as STAFF` once it is in CPOMS")

    def _in_tray(self, record: OutboxRecord, attempt: int, where: str, delivery: Delivery) -> _Settlement:
        """A record the receiver holds unmatched in its tray: never sent again, done once the DSL team attaches it."""
        values = {"status": IN_TRAY, "cpoms_id": delivery.remote_id, "last_error": None, "next_attempt_at": None,
                  "doubt": delivery.doubt}
        said = in_tray(delivery.remote_id, None)  # no pupil named in a log
        # A possible second copy, said plainly as for a record sent: in the tray, the person attaching it looks for it.
        doubt = f"; {delivery.doubt}" if delivery.doubt else ""
        return _Settlement(record, attempt, values, "outbox.in-tray",
                           {"incident": delivery.remote_id, **({"doubt": delivery.doubt} if delivery.doubt else {})},
                           Outcome(record.id, record.school_id, record.kind, "in-tray", remote_id=delivery.remote_id,
                                   message=said + doubt),
                           logging.WARNING, f"{where} is {said}; then `{attach_command(record.id, delivery.remote_id)}`"
                           f"{doubt}")

    def _waiting(self, record: OutboxRecord, attempt: int, where: str, reason: str,
                 retry_after: float | None) -> _Settlement:
        retry_at = self.now() + backoff(attempt, retry_after)
        reason = neutralise(reason)
        return _Settlement(record, attempt, {"status": "pending", "last_error": reason, "next_attempt_at": retry_at},
                           "", {}, Outcome(record.id, record.school_id, record.kind, "waiting", message=reason),
                           logging.WARNING, f"{where} waits until {retry_at.isoformat(timespec='seconds')}: {reason}")

