"""Sync pupil background from each school's MIS into the store.

An MIS adapter (:class:`MisAdapter`, registered through the ``mis_adapters``
hook; Wonde's is built in) yields *normalised* records page by page:
:class:`PupilRecord` for a pupil with their contacts, medical needs, SEN,
alerts and attendance, :class:`Departure` for a pupil (or contact) who left,
and :class:`Rejected` for a record that failed validation. The sync never
sees the MIS's own shapes.

Per school, the pages are spooled to a private temporary file as they
arrive (memory stays flat however big the school), then written in **one**
transaction: the school is either as before or fully updated, and its
cursors move in that same transaction, so they never pass what was
committed. Writing after the walk keeps the write lock short (SQLite has one
writer, and the watch must never wait on a slow MIS) while schools still
fetch concurrently. A bad record goes to the quarantine table; one school's
outage or revoked approval fails that school only.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, Self

from hv_connector.clock import Clock, school_today
from hv_connector.errors import HvcError, MisAuthError
from hv_connector.store import Store
from hv_connector.sync import store as sync_store
from hv_connector.sync.attendance import MARK_DAYS, MARKS, NO_REGISTER, RegisterSource, mark_days
from hv_connector.sync.records import DepartureItem, PupilItem, Rejected
from hv_connector.sync.store import DEPARTURES, PUPILS

if TYPE_CHECKING:
    from hv_connector.config.checks import Problem
    from hv_connector.config.settings import SchoolSettings, Settings

log = logging.getLogger(__name__)

class MisAdapter(Protocol):
    """One school's MIS, as normalised records. Factories registered by ``mis_adapters`` return these.

    Used as ``async with adapter:``. Each walk yields one batch per page; a
    batch may mix good records and :class:`Rejected` ones. ``since`` is the
    cursor the adapter gave at the end of the last complete walk
    (:meth:`next_cursor`), or ``None`` for everything. Cursors are the
    adapter's own: the core stores them as text and never reads them, so a
    time (:class:`~hv_connector.sync.cursors.TimeCursor`), a revision number
    or a file's checksum all serve.
    """

    school_id: str
    """Our id for the school (the store's ``school_id``)."""

    @property
    def requests(self) -> int:
        """Requests made for this school so far (retries included)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    def pupils(self, since: str | None) -> AsyncIterator[Sequence[PupilItem]]:
        """The pupils changed since the cursor ``since``, with their background."""
        ...

    def departures(self, since: str | None) -> AsyncIterator[Sequence[DepartureItem]]:
        """Records deleted (or restored) since the cursor ``since``."""
        ...

    def next_cursor(self, resource: str, started_at: datetime) -> str | None:
        """Where the next run of ``resource`` (``pupils`` or ``departures``) should start, once its walk is complete.

        Called after both walks finished; the answer is stored in the same
        transaction as what the walk read. ``None`` means "from the beginning".

        :param resource: :data:`~hv_connector.sync.store.PUPILS` or :data:`~hv_connector.sync.store.DEPARTURES`.
        :param started_at: when this run started, by the core's clock (a time cursor must not pass it).
        """
        ...


class MisAdapterFactory(Protocol):
    """What ``mis_adapters`` registers under a name: builds one school's adapter and says what it needs."""

    def __call__(self, settings: Settings, school: SchoolSettings) -> MisAdapter:
        """Build ``school``'s adapter; a setting it cannot do without is a :class:`~hv_connector.errors.ConfigError`."""
        ...

    def settings_problems(self, settings: Settings, school: SchoolSettings, config_file: str) -> list[Problem]:
        """Say what the adapter lacks to sync ``school``, one problem per setting, each naming its fix.

        Called by ``hvc config check`` for every school set up to sync
        through this adapter (and by the adapter itself before it builds one).
        The adapter reads what it needs: an installation-wide section
        (``[wonde]``), the school's ``mis_school_id`` or its own per-school
        section, ``[schools.ID.mis_options]``. The core demands nothing of an adapter's settings.

        :param settings: every setting.
        :param school: the school to sync.
        :param config_file: the settings file actually read, for the messages to name.
        :returns: the problems; empty when the adapter has what it needs.
        """
        ...


# --- results ---------------------------------------------------------------------------------------


@dataclass
class SchoolResult:
    """What one school's sync did: the summary line and the ``sync_runs`` row."""

    school_id: str
    started_at: datetime
    status: Literal["ok", "failed"] = "ok"
    added: int = 0
    updated: int = 0
    archived: int = 0
    quarantined: int = 0
    requests: int = 0
    seconds: float = 0.0
    message: str = ""
    after: str = ""
    """What ran after the school's data was written (the proposals' refresh), in one line."""
    rejected: list[Rejected] = field(default_factory=list)
    began: float = field(default_factory=time.perf_counter)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def elapsed(self) -> float:
        """Seconds since this school's sync began."""
        return time.perf_counter() - self.began


@dataclass(frozen=True)
class Progress:
    """A page arrived for a school (for progress bars and log lines)."""

    school_id: str
    records: int
    requests: int
    done: bool = False
    failed: bool = False


# --- the spool: one school's pages on disk until the walk is complete -----------------------------


class Spool:
    """Batches written to an anonymous temporary file (unlinked at once, so a kill leaves nothing)."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="hvc-sync-")  # noqa: SIM115 -- open for the spool's life, closed by close()
        self.batches = 0

    def write(self, kind: str, batch: Any) -> None:
        pickle.dump((kind, batch), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def write_pupils(self, school_id: str, batch: Sequence[PupilItem], now: datetime) -> None:
        """Spool a page of pupils as the rows they become."""
        self.write(PUPILS, sync_store.page_rows(school_id, batch, now))

    def read(self) -> Iterator[tuple[str, Any]]:
        """Every batch in the order written (only our own file is ever unpickled)."""
        self._file.seek(0)
        for _ in range(self.batches):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


# --- one school ------------------------------------------------------------------------------------


async def sync_school(
    store: Store,
    adapter: MisAdapter,
    *,
    adapter_name: str,
    full: bool,
    clock: Clock,
    write_lock: asyncio.Lock,
    on_progress: Callable[[Progress], None] = lambda p: None,
    after_write: AfterWrite | None = None,
) -> SchoolResult:
    """Walk one school's MIS into a spool, then write it in one transaction. Never raises for the MIS.

    ``adapter_name`` is kept with the cursors: a school that moves to another adapter starts from the beginning
    rather than hand the new adapter a cursor it never gave. ``after_write`` runs once the school's data is
    committed, still holding the write lock (the proposals' refresh, which reads what was just written).
    """
    school = adapter.school_id
    result = SchoolResult(school, clock.now())
    spool = Spool()
    try:
        cursors = {} if full else sync_store.read_cursors(store, school, adapter_name)
        records = 0
        async with adapter:
            async for batch in adapter.pupils(cursors.get(PUPILS)):
                # Rows built off the event loop, whose timers pace the requests of every school.
                await asyncio.to_thread(spool.write_pupils, school, batch, result.started_at)
                records += len(batch)
                del batch  # spooled: not held in memory while the next page is fetched
                on_progress(Progress(school, records, adapter.requests))
            async for leavers in adapter.departures(cursors.get(DEPARTURES)):
                spool.write(DEPARTURES, leavers)
                on_progress(Progress(school, records, adapter.requests))
            register = isinstance(adapter, RegisterSource) and await walk_marks(
                adapter, spool, cursors.get(MARKS), school_today(clock), result)
            if isinstance(adapter, RegisterSource):
                on_progress(Progress(school, records, adapter.requests))
            result.requests = adapter.requests
            new_cursors = {resource: adapter.next_cursor(resource, result.started_at) for resource in (PUPILS, DEPARTURES)}
            if isinstance(adapter, RegisterSource):  # a refused register starts again from the beginning
                new_cursors[MARKS] = adapter.next_cursor(MARKS, result.started_at) if register else None
        async with write_lock:
            await asyncio.to_thread(sync_store.write_school, store, school, spool, result, new_cursors,
                                    adapter_name, full=full)
            if after_write is not None:
                await asyncio.to_thread(_run_after_write, after_write, result)
    except HvcError as exc:
        _fail(result, str(exc), adapter)
    except Exception as exc:  # a bug or a broken adapter must not stop the other schools
        log.exception("sync of school %s failed unexpectedly", school)
        _fail(result, f"unexpected {type(exc).__name__}: {exc}; please report it with the log", adapter)
    finally:
        spool.close()
    result.seconds = result.elapsed()
    if not result.ok:
        await asyncio.to_thread(_record_failure, store, result)
    on_progress(Progress(school, result.added + result.updated, result.requests, done=True, failed=not result.ok))
    return result


async def walk_marks(adapter: RegisterSource, spool: Spool, cursor: str | None, today: date,
                     result: SchoolResult) -> bool:
    """Spool the register's marks for the days a figure reads (see :mod:`hv_connector.sync.attendance`).

    A school that lets us read its pupils but refuses its register has not granted the attendance scope: its
    pupils still sync, its stored marks are dropped (old figures must not pass for current ones), the run
    says so, and this returns False.
    """
    days = mark_days(today, cursor)
    spool.write(MARK_DAYS, days)
    try:
        async for marks in adapter.session_marks(days.first, days.last, cursor):
            spool.write(MARKS, sync_store.mark_rows(marks))
    except MisAuthError as exc:
        spool.write(MARK_DAYS, NO_REGISTER)
        result.message = (f"the school has not shared its register ({exc}); attendance figures are not available "
                          "until it grants the attendance scope")
        log.warning("sync %s: %s", result.school_id, result.message)
        return False
    return True


AfterWrite = Callable[[str], str]
"""Called with a school's id once its sync is committed; answers a line for the summary. Runs in a worker thread."""


def _run_after_write(after_write: AfterWrite, result: SchoolResult) -> None:
    """Run ``after_write``; its failure is logged and said in the summary, and the sync it follows still stands."""
    try:
        result.after = after_write(result.school_id)
    except Exception as exc:  # the school's data is committed: a failed refresh must not undo or hide that
        log.exception("sync %s: what runs after the sync failed", result.school_id)
        result.after = f"not refreshed after the sync ({type(exc).__name__}: {exc}); run `hvc propose refresh`"


def _fail(result: SchoolResult, message: str, adapter: MisAdapter) -> None:
    result.status, result.message = "failed", message
    result.added = result.updated = result.archived = result.quarantined = 0
    result.rejected.clear()
    result.requests = adapter.requests


def _record_failure(store: Store, result: SchoolResult) -> None:
    try:
        sync_store.record_run(store, result)
    except Exception as exc:  # the summary still reports the failure; the store may be what failed
        log.error("could not record the failed sync of school %s: %s", result.school_id, exc)


# --- every school ------------------------------------------------------------------------------


async def sync_schools(
    store: Store,
    adapters: Sequence[tuple[str, MisAdapter]],
    *,
    full: bool = False,
    clock: Clock,
    on_progress: Callable[[Progress], None] = lambda p: None,
    after_write: AfterWrite | None = None,
) -> list[SchoolResult]:
    """Sync every school concurrently (``(adapter name, adapter)`` pairs); results come back in their order.

    :param after_write: run for each school once its data is committed (see :func:`sync_school`).
    """
    write_lock = asyncio.Lock()
    return list(await asyncio.gather(*(
        sync_school(store, adapter, adapter_name=name, full=full, clock=clock, write_lock=write_lock,
                    on_progress=on_progress, after_write=after_write)
        for name, adapter in adapters
    )))
