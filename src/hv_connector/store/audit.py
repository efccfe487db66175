"""The tamper-evident audit log: who decided what, and when, in a hash chain.

Every entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``,
where the entry is its seq, time, school, visit, actor, action, state and
detail, and ``prev_hash`` is the hash of the entry before (64 zeros for the
first). Editing, deleting or reordering a row breaks the chain at that row;
cutting rows off the end shows against the chain's tip (``audit_tip``), which
every append updates in the same transaction.

:func:`append` runs in the caller's transaction, so an entry is written if and
only if the change it records is (:func:`batched` holds a block's entries and
writes them together at its end). Writing updates the tip first, which locks it
(a row lock on PostgreSQL, the database's write lock on SQLite), so concurrent
writers queue and the chain stays a line. Keep audited transactions short: they serialise on the tip.

Since revision 0012 an entry also carries ``detail_hash``, and the chain covers that instead of the
detail, so a retention run can erase a detail (:func:`erase_details`) and leave a tombstone that still
verifies; and ``records``, the hash of each record about its visit as the transaction leaves it
(:mod:`hv_connector.store.records`), so ``hvc audit verify`` proves the visits, events, outbox payloads
and escalation decisions as well as the log; an entry about a pupil's alerts carries the hash of their alert set
(:mod:`hv_connector.store.alert_sets`).

What the chain cannot show on its own: someone with write access who rewrites
every row from the tampered one onwards *and* the tip. Keep the tip hash
``hvc audit anchor`` prints (or e-mails) somewhere else, and check against it
with ``hvc audit verify --expect HASH``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, select, update

from hv_connector.errors import StoreError
from hv_connector.store import alert_sets as alert_hashes
from hv_connector.store import records as record_hashes
from hv_connector.store.bulk import insert_rows
from hv_connector.store.hashing import as_read_back, canonical_json, digest
from hv_connector.store.schema import audit, audit_tip, visits

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

_TIP_ID = 1
_BATCH = "hvc_audit_batch"
"""Where :func:`batched` keeps the entries it holds, in the connection's ``info``."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log, as read back."""

    seq: int
    at: datetime
    school_id: str | None
    visit_id: str | None
    actor: str
    action: str
    state: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str
    detail_hash: str | None = None
    records: dict[str, str] | None = None
    erased_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as plain JSON values (times in ISO form, UTC)."""
        erased = None if self.erased_at is None else self.erased_at.isoformat()
        return {**self.__dict__, "at": self.at.isoformat(), "erased_at": erased}


@dataclass(frozen=True)
class ChainBreak:
    """Where and how the chain is broken."""

    seq: int
    """The first entry that does not verify (for a chain cut short: the first missing one)."""
    problem: str
    """What is wrong, in words an inspector can follow."""


@lru_cache(maxsize=64)  # a batch's entries share their moment (the watch's tick)
def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@lru_cache(maxsize=64)
def _in_utc(moment: datetime, fold: int) -> datetime:
    """``moment`` in UTC: one object for a batch's entries at one moment, so writing them converts it once
    (:func:`~hv_connector.store.bulk.insert_rows` converts a value repeated down a column once).

    ``fold`` (``moment.fold``) is part of the key: 01:30 BST and 01:30 GMT, an hour apart in the autumn, compare
    and hash equal, and would otherwise share one answer."""
    return moment.astimezone(timezone.utc)


_CHAINED = ("seq", "at", "school_id", "visit_id", "actor", "action", "state")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of an entry with ``fields`` (its columns; the hashes are ignored) chained on ``prev_hash``.

    An entry with a ``detail_hash`` (revision 0012 on) is chained on that rather than its detail, and on its
    ``records`` when it has them; an older entry is chained on its detail, as it was written.
    """
    body = {key: fields[key] for key in _CHAINED} | {"at": _utc_iso(fields["at"])}
    if fields.get("detail_hash") is None:
        body["detail"] = fields["detail"]
    else:
        body["detail_hash"] = fields["detail_hash"]
    if fields.get("records") is not None:
        body["records"] = fields["records"]
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


_process: dict[str, str] = {}
"""How the person this process acts for was identified (``identified_by``), once :func:`identified_by` is called."""


@contextmanager
def identified_by(via: str) -> Iterator[None]:
    """Record ``via`` (``ssh-key SHA256:…``, ``login alice``) in every entry appended inside the block."""
    _process["identified_by"] = via
    try:
        yield
    finally:
        _process.pop("identified_by", None)


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    school_id: str | None,
    visit_id: str | None = None,
    state: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
    records: dict[str, str] | None = None,
) -> None:
    """Append an entry in the caller's transaction (at the end of a :func:`batched` block, when in one).

    :param actor: who acted (a staff id, or ``system:watch`` and the like).
    :param action: what was done, e.g. ``visit.authorise``, ``override``, ``escalation.step``.
    :param school_id: the school it concerns (``None`` for installation-wide actions).
    :param visit_id: the visit it concerns, if any.
    :param state: the visit's state after the action.
    :param detail: JSON-able facts (dates and datetimes are written in ISO form). Never a code word.
    :param at: when it happened (aware; default now). Pass the run's clock so tests control it.
    :param records: record hashes the entry vouches for, when it is about no visit (a pupil's alert set:
        :mod:`hv_connector.store.alert_sets`); an entry about a visit carries that visit's records instead.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    # Written as the text of the detail as it will read back, so the hash recomputes identically on every backend.
    text = as_read_back({**(detail or {}), **_process})
    fields = {
        "at": datetime.now(timezone.utc) if at is None else _in_utc(at, at.fold),
        "school_id": school_id,
        "visit_id": visit_id,
        "actor": actor,
        "action": action,
        "state": state,
        "detail": text,  # JSON text, as the driver takes it (store.bulk); the chain covers its hash
        "detail_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "records": records,
    }
    pending: list[dict[str, Any]] | None = conn.info.get(_BATCH)
    if pending is not None:
        pending.append(fields)
    else:
        _write(conn, [fields])


@contextmanager
def batched(conn: Connection) -> Iterator[None]:
    """Hold the entries appended in the block, and write them, in order, as it ends: one read of the tip for all.

    For a transaction that audits many changes at once (the watch moving a tick's visits on): each entry
    alone costs four statements. Nothing is written if the block raises.
    """
    info = conn.info  # held: a connection lost in the block can no longer be asked for it
    if _BATCH in info:
        yield
        return
    pending: list[dict[str, Any]] = []
    info[_BATCH] = pending
    try:
        yield
    finally:
        info.pop(_BATCH, None)
    _write(conn, pending)


def _write(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Chain ``entries`` on the tip and write them."""
    if not entries:
        return
    # Write before reading: the UPDATE takes the tip's row lock (PostgreSQL) or the write lock (SQLite, even in
    # a transaction not begun by Store.begin), so no other writer can read the same tip until this one commits.
    conn.execute(update(audit_tip).where(audit_tip.c.id == _TIP_ID).values(seq=audit_tip.c.seq + len(entries)))
    tip = conn.execute(select(audit_tip.c.seq, audit_tip.c.hash).where(audit_tip.c.id == _TIP_ID)).one()
    described = {fields["visit_id"]: index for index, fields in enumerate(entries) if fields["visit_id"]}
    states = record_hashes.stamp(conn, described)
    prev_hash, rows = tip.hash, []
    for index, (seq, fields) in enumerate(enumerate(entries, start=tip.seq - len(entries) + 1)):
        # The last entry about each visit in the batch carries its records as the transaction leaves them.
        records = states[fields["visit_id"]] if described.get(fields["visit_id"]) == index else fields["records"]
        row = {**fields, "seq": seq, "records": records, "prev_hash": prev_hash}
        row["hash"] = prev_hash = entry_hash(prev_hash, row)
        row["records"] = canonical_json(records)  # JSON text ("null" for none), as the detail is
        rows.append(row)
    insert_rows(conn, audit, rows, ready=["detail", "records"])
    conn.execute(update(audit_tip).where(audit_tip.c.id == _TIP_ID).values(hash=prev_hash))


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(**{column: row[column] for column in AuditEntry.__dataclass_fields__})


def inspect(conn: Connection, *, records: dict[str, dict[str, str]] | None = None,
            alert_sets: dict[alert_hashes.Pupil, tuple[int, str]] | None = None) -> ChainBreak | None:
    """Walk the whole chain; the first break found, or ``None`` when every entry verifies.

    :param records: when given, filled with each visit's latest record snapshot (visit id → record → hash),
        for :func:`~hv_connector.store.records.compare` (one walk of the log for both checks).
    :param alert_sets: likewise, each pupil's latest alert-set hash and the entry that holds it
        ((school, pupil) → (seq, hash)), for :func:`~hv_connector.store.alert_sets.compare`.
    """
    expected_seq, prev_hash = 1, GENESIS_HASH
    # Streamed per statement: options set on the connection would stream (and break) the caller's writes after it.
    rows = conn.execute(select(audit).order_by(audit.c.seq).execution_options(yield_per=1000)).mappings()
    for row in rows:
        entry = _entry(row)
        if entry.seq < expected_seq:
            return ChainBreak(entry.seq, f"entry {entry.seq} is out of sequence (expected {expected_seq})")
        if entry.seq > expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing (the next one is {entry.seq})")
        if entry.prev_hash != prev_hash:
            return ChainBreak(entry.seq, "it does not chain on the entry before it (an entry was removed or moved)")
        if entry_hash(prev_hash, entry.__dict__) != entry.hash:
            return ChainBreak(entry.seq, "its contents do not match its hash (the row was edited)")
        if entry.detail_hash is not None and entry.erased_at is None and digest(entry.detail) != entry.detail_hash:
            return ChainBreak(entry.seq, "its detail does not match its hash (the row was edited)")
        if records is not None and entry.records is not None and entry.visit_id is not None:
            records[entry.visit_id] = entry.records
        if alert_sets is not None and entry.records is not None and entry.visit_id is None:
            alert_sets.update((pupil, (entry.seq, hashed))
                              for pupil, hashed in alert_hashes.recorded_in(entry.school_id, entry.records))
        expected_seq, prev_hash = expected_seq + 1, entry.hash
    last = conn.execute(select(audit_tip.c.seq, audit_tip.c.hash).where(audit_tip.c.id == _TIP_ID)).one_or_none()
    last_seq = expected_seq - 1
    if last is None:
        return ChainBreak(last_seq + 1, "the chain's tip record (table audit_tip) is missing: restore it from a "
                                        "backup, and check the log against a tip kept elsewhere with --expect")
    if last.seq > last_seq:
        return ChainBreak(last_seq + 1, f"the log ends at entry {last_seq} but had {last.seq} entries (cut short)")
    if last.seq < last_seq or last.hash != prev_hash:
        return ChainBreak(min(last.seq + 1, last_seq), "the last entries do not match the chain's tip")
    return None


def verify(conn: Connection) -> int | None:
    """The seq of the first broken entry, or ``None`` when the whole chain verifies."""
    found = inspect(conn)
    return None if found is None else found.seq


def tip(conn: Connection) -> tuple[int, str]:
    """The last seq and its hash: keep the hash elsewhere (``hvc audit anchor``) to pin the log as it is now.

    :raises StoreError: the tip record is missing.
    """
    row = conn.execute(select(audit_tip.c.seq, audit_tip.c.hash).where(audit_tip.c.id == _TIP_ID)).one_or_none()
    if row is None:
        raise StoreError("the audit log's tip record (table audit_tip) is missing: restore it from a backup, then "
                         "run `hvc audit verify --expect HASH` with a tip hash kept elsewhere")
    return row.seq, row.hash


def has_hash(conn: Connection, expected: str) -> bool:
    """Whether an entry has the hash ``expected``: a tip kept elsewhere is still in the chain (which may have grown)."""
    return conn.execute(select(audit.c.seq).where(audit.c.hash == expected).limit(1)).first() is not None


def seal(conn: Connection, *, actor: str, at: datetime) -> tuple[int, int]:
    """Append an ``audit.seal`` entry for each visit no entry has record hashes for, and for each pupil whose alerts
    no entry has a hash of; how many visits and pupils were sealed.

    :raises StoreError: the chain is broken (sealing would vouch for records a broken log cannot).
    """
    recorded: dict[str, dict[str, str]] = {}
    sets: dict[alert_hashes.Pupil, tuple[int, str]] = {}
    broken = inspect(conn, records=recorded, alert_sets=sets)
    if broken is not None:
        raise StoreError(f"the audit log is broken at entry {broken.seq} ({broken.problem}): nothing sealed; "
                         "run `hvc audit verify` and tell the DSL")
    unsealed = record_hashes.unrecorded(conn, list(recorded))
    schools = {row.id: row.school_id
               for row in conn.execute(select(visits.c.id, visits.c.school_id).where(visits.c.id.in_(unsealed)))}
    pupils: dict[str, list[str]] = {}
    for school_id, pupil in alert_hashes.unrecorded(conn, sets):
        pupils.setdefault(school_id, []).append(pupil)
    with batched(conn):
        for visit_id in unsealed:
            append(conn, actor=actor, action="audit.seal", school_id=schools[visit_id], visit_id=visit_id, at=at)
        for school_id, mis_ids in pupils.items():
            for pupil, hashed in alert_hashes.current(conn, school_id, mis_ids).items():
                append(conn, actor=actor, action="audit.seal", school_id=school_id, detail={"pupil": pupil}, at=at,
                       records=alert_hashes.record(pupil, hashed))
    return len(unsealed), sum(len(mis_ids) for mis_ids in pupils.values())


def erase_details(conn: Connection, seqs: Sequence[int], *, at: datetime) -> int:
    """Remove the detail (personal data) of the entries ``seqs`` written since revision 0012; the chain still verifies.

    Entries written before have their detail in the chain, and keep it. Returns how many were erased.
    """
    erasable = (audit.c.seq.in_(seqs), audit.c.detail_hash.is_not(None), audit.c.erased_at.is_(None))
    return conn.execute(update(audit).where(*erasable).values(detail={}, erased_at=at)).rowcount


def entries(conn: Connection, *where: ColumnElement[bool]) -> list[AuditEntry]:
    """The entries matching ``where``, oldest first."""
    return [_entry(row) for row in conn.execute(select(audit).where(*where).order_by(audit.c.seq)).mappings()]


def history(conn: Connection, visit_id: str) -> list[AuditEntry]:
    """Every entry about ``visit_id``, oldest first."""
    return entries(conn, audit.c.visit_id == visit_id)
