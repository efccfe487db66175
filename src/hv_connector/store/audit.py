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

What the chain cannot show on its own: someone with write access who rewrites
every row from the tampered one onwards *and* the tip. Record the tip hash
printed by ``hvc audit verify`` somewhere else (a ticket, an e-mail) to pin it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from hv_connector.store.schema import audit, audit_tip

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

    def as_json(self) -> dict[str, Any]:
        """The entry as plain JSON values (times in ISO form, UTC)."""
        return {**self.__dict__, "at": self.at.isoformat()}


@dataclass(frozen=True)
class ChainBreak:
    """Where and how the chain is broken."""

    seq: int
    """The first entry that does not verify (for a chain cut short: the first missing one)."""
    problem: str
    """What is wrong, in words an inspector can follow."""


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit detail values must be JSON (or dates); got {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that hashing uses: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of an entry with ``fields`` (every column but the hashes) chained on ``prev_hash``."""
    body = {**fields, "at": _utc_iso(fields["at"])}
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
) -> None:
    """Append an entry in the caller's transaction (at the end of a :func:`batched` block, when in one).

    :param actor: who acted (a staff id, or ``system:watch`` and the like).
    :param action: what was done, e.g. ``visit.authorise``, ``override``, ``escalation.step``.
    :param school_id: the school it concerns (``None`` for installation-wide actions).
    :param visit_id: the visit it concerns, if any.
    :param state: the visit's state after the action.
    :param detail: JSON-able facts (dates and datetimes are written in ISO form). Never a code word.
    :param at: when it happened (aware; default now). Pass the run's clock so tests control it.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    fields = {
        "at": (at or datetime.now(timezone.utc)).astimezone(timezone.utc),
        "school_id": school_id,
        "visit_id": visit_id,
        "actor": actor,
        "action": action,
        "state": state,
        # Stored as it will read back, so the hash recomputes identically on every backend.
        "detail": json.loads(canonical_json({**(detail or {}), **_process})),
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
    prev_hash, rows = tip.hash, []
    for seq, fields in enumerate(entries, start=tip.seq - len(entries) + 1):
        chained = {**fields, "seq": seq}
        digest = entry_hash(prev_hash, chained)
        rows.append({**chained, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    conn.execute(insert(audit), rows)
    conn.execute(update(audit_tip).where(audit_tip.c.id == _TIP_ID).values(hash=prev_hash))


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(**{column: row[column] for column in AuditEntry.__dataclass_fields__})


def inspect(conn: Connection) -> ChainBreak | None:
    """Walk the whole chain; the first break found, or ``None`` when every entry verifies."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    rows = conn.execution_options(yield_per=1000).execute(select(audit).order_by(audit.c.seq)).mappings()
    for row in rows:
        entry = _entry(row)
        if entry.seq < expected_seq:
            return ChainBreak(entry.seq, f"entry {entry.seq} is out of sequence (expected {expected_seq})")
        if entry.seq > expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing (the next one is {entry.seq})")
        if entry.prev_hash != prev_hash:
            return ChainBreak(entry.seq, "it does not chain on the entry before it (an entry was removed or moved)")
        fields = {k: v for k, v in entry.__dict__.items() if k not in ("prev_hash", "hash")}
        if entry_hash(prev_hash, fields) != entry.hash:
            return ChainBreak(entry.seq, "its contents do not match its hash (the row was edited)")
        expected_seq, prev_hash = expected_seq + 1, entry.hash
    last = conn.execute(select(audit_tip.c.seq, audit_tip.c.hash).where(audit_tip.c.id == _TIP_ID)).one_or_none()
    last_seq = expected_seq - 1
    if last is None:
        return ChainBreak(last_seq + 1, "the chain's tip record is missing")
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
    """The last seq and its hash: record the hash elsewhere to pin the log as it is now."""
    row = conn.execute(select(audit_tip.c.seq, audit_tip.c.hash).where(audit_tip.c.id == _TIP_ID)).one()
    return row.seq, row.hash


def history(conn: Connection, visit_id: str) -> list[AuditEntry]:
    """Every entry about ``visit_id``, oldest first."""
    rows = conn.execute(select(audit).where(audit.c.visit_id == visit_id).order_by(audit.c.seq)).mappings()
    return [_entry(row) for row in rows]
