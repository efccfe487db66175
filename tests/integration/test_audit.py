"""The audit log is a hash chain: any edit, deletion, reordering or truncation is found and named."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from hv_connector.store import Store, audit
from hv_connector.store.schema import audit as audit_table

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _log(store: Store, entries: int = 5) -> None:
    with store.begin() as conn:
        for i in range(entries):
            audit.append(
                conn, actor="bw-dsl-1", action="visit.note", school_id="birchwood",
                visit_id="v1" if i % 2 == 0 else "v2", state="requested",
                detail={"i": i, "note": "Pupil’s mum agreed — 10 o’clock", "at": START}, at=START + timedelta(minutes=i),
            )


def _verify(store: Store) -> audit.ChainBreak | None:
    with store.connect() as conn:
        return audit.inspect(conn)


def test_an_untouched_chain_verifies(store: Store) -> None:
    _log(store)
    with store.connect() as conn:
        assert audit.verify(conn) is None
        assert audit.tip(conn)[0] == 5


def test_an_empty_log_verifies(store: Store) -> None:
    with store.connect() as conn:
        assert audit.verify(conn) is None


def test_entries_are_numbered_and_chained_in_order(store: Store) -> None:
    _log(store, 3)
    with store.connect() as conn:
        rows = conn.execute(select(audit_table).order_by(audit_table.c.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


@pytest.mark.parametrize(
    ("change", "column"),
    [("actor", "someone-else"), ("detail", {"i": 2, "note": "changed"}), ("at", START + timedelta(hours=1)),
     ("records", {"visit v1": "0" * 64})],  # the records it vouches for, written as JSON text (store.bulk)
)
def test_an_edited_entry_is_named(store: Store, change: str, column: object) -> None:
    _log(store)
    with store.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 3).values({change: column}))
    found = _verify(store)
    assert found is not None and found.seq == 3 and "edited" in found.problem


def test_an_edit_rehashed_by_the_tamperer_breaks_the_next_link(store: Store) -> None:
    _log(store)
    with store.begin() as conn:
        row = conn.execute(select(audit_table).where(audit_table.c.seq == 3)).mappings().one()
        forged = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")} | {"actor": "someone-else"}
        conn.execute(update(audit_table).where(audit_table.c.seq == 3).values(
            actor="someone-else", hash=audit.entry_hash(row["prev_hash"], forged)))
    assert _verify(store).seq == 4


def test_a_deleted_entry_is_named(store: Store) -> None:
    _log(store)
    with store.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq == 2))
    found = _verify(store)
    assert found.seq == 2 and "missing" in found.problem


def test_a_deleted_first_entry_is_named(store: Store) -> None:
    _log(store)
    with store.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq == 1))
    assert _verify(store).seq == 1


def test_reordered_entries_are_named(store: Store) -> None:
    _log(store)
    with store.begin() as conn:  # swap the numbers of entries 2 and 4
        conn.execute(update(audit_table).where(audit_table.c.seq == 2).values(seq=-2))
        conn.execute(update(audit_table).where(audit_table.c.seq == 4).values(seq=2))
        conn.execute(update(audit_table).where(audit_table.c.seq == -2).values(seq=4))
    assert _verify(store).seq == 2


def test_a_truncated_log_is_named(store: Store) -> None:
    _log(store)
    with store.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq >= 4))
    found = _verify(store)
    assert found.seq == 4 and "cut short" in found.problem


def test_a_wiped_log_is_named(store: Store) -> None:
    _log(store)
    with store.begin() as conn:
        conn.execute(delete(audit_table))
    assert _verify(store).seq == 1


def test_appending_after_a_rolled_back_transaction_leaves_no_gap(store: Store) -> None:
    _log(store, 2)
    with pytest.raises(RuntimeError), store.begin() as conn:
        audit.append(conn, actor="x", action="visit.note", school_id="birchwood")
        raise RuntimeError("the change it recorded failed")
    _log(store, 1)
    with store.connect() as conn:
        assert conn.execute(select(func.max(audit_table.c.seq))).scalar() == 3
        assert audit.verify(conn) is None


def test_history_is_one_visits_entries_oldest_first(store: Store) -> None:
    _log(store)
    with store.connect() as conn:
        entries = audit.history(conn, "v1")
    assert [e.seq for e in entries] == [1, 3, 5]
    assert entries[0].at == START and entries[0].detail["at"] == START.isoformat()
    assert entries[0].as_json()["at"] == START.isoformat()


def test_the_repeated_autumn_hour_is_written_at_the_moment_it_was(store: Store) -> None:
    """01:30 BST and, an hour later, 01:30 GMT compare equal in Python (same zone, fold ignored): each entry keeps
    its own moment in UTC, the second never stamped with the first's."""
    first = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))  # 00:30 UTC
    second = first.replace(fold=1)  # 01:30 UTC, the clocks gone back
    with store.begin() as conn:
        for at in (first, second):
            audit.append(conn, actor="system:watch", action="visit.note", school_id="birchwood", at=at)
    with store.connect() as conn:
        written = conn.execute(select(audit_table.c.at).order_by(audit_table.c.seq)).scalars().all()
        assert audit.verify(conn) is None
    assert [at.astimezone(timezone.utc).hour for at in written] == [0, 1]


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"), store.begin() as conn:
        audit.append(conn, actor="x", action="visit.note", school_id="birchwood", at=datetime(2026, 11, 23, 9))


WRITER = textwrap.dedent("""
    import sys
    from hv_connector.store import audit
    from hv_connector.store import Store

    url, actor, count, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = Store.open(url, upgrade=True)

    def append(conn, i):
        audit.append(conn, actor=actor, action="test.append", school_id="potton", detail={"i": i})

    for i in range(count):
        if how == "store":
            with store.begin() as conn:
                append(conn, i)
        else:  # a plain transaction, not begun by Store.begin
            with store.connect() as conn, conn.begin():
                append(conn, i)
    store.close()
""")


def test_two_processes_appending_at_once_keep_one_valid_chain(database_url: str) -> None:
    count = 25
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, database_url, actor, str(count), actor], stderr=subprocess.PIPE)
        for actor in ("store", "plain")
    ]
    errors = [w.communicate(timeout=120)[1].decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    store = Store.open(database_url)
    with store.connect() as conn:
        assert audit.verify(conn) is None
        rows = conn.execute(select(audit_table.c.actor, audit_table.c.detail).order_by(audit_table.c.seq)).all()
    store.close()
    assert len(rows) == 2 * count
    for actor in ("store", "plain"):
        assert [d["i"] for a, d in rows if a == actor] == list(range(count))


def test_a_detail_keyed_by_numbers_verifies(store: Store) -> None:
    # Keys 2 and 10 are written in number order; read back as "2" and "10" they sort as text ("10" first).
    with store.begin() as conn:
        audit.append(conn, actor="bw-dsl-1", action="visit.note", school_id="birchwood", visit_id="v1",
                     state="requested", detail={"by_step": {2: "sent", 10: "waiting"}}, at=START)
    assert _verify(store) is None
