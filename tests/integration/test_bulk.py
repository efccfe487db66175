"""store.bulk's own SQL (ON CONFLICT, RETURNING a page at a time) on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hv_connector.store import Store, bulk
from hv_connector.store.schema import outbox

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _row(key: str, kind: str = "visit-report") -> dict[str, object]:
    return {"school_id": "potton", "visit_id": None, "kind": kind, "priority": 0, "payload": {"key": key, "n": [1]},
            "idempotency_key": key, "status": "pending", "attempts": 0, "alert_dsl": False, "created_at": NOW}


def test_rows_that_clash_are_skipped_and_only_the_rows_written_come_back_page_after_page(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.begin() as conn:
        bulk.insert_rows(conn, outbox, [_row("k-2")])
    monkeypatch.setattr(bulk, "_PARAMETERS", 2 * len(_row("k")))  # two rows a statement: three statements for five
    with store.begin() as conn:
        found = bulk.insert_rows(conn, outbox, [_row(f"k-{n}") for n in range(5)], conflict=["idempotency_key"],
                                 returning=["idempotency_key", "id"])
    with store.connect() as conn:
        stored = dict(conn.execute(select(outbox.c.idempotency_key, outbox.c.id)).all())
        payloads = {key: payload for key, payload in conn.execute(select(outbox.c.idempotency_key, outbox.c.payload))}
    assert sorted(found) == sorted((key, stored[key]) for key in ("k-0", "k-1", "k-3", "k-4"))  # not k-2: kept
    assert payloads == {f"k-{n}": {"key": f"k-{n}", "n": [1]} for n in range(5)}


def test_a_row_that_clashes_updates_only_the_columns_named(store: Store) -> None:
    with store.begin() as conn:
        bulk.insert_rows(conn, outbox, [_row("k-1"), _row("k-2")])
    with store.begin() as conn:
        bulk.insert_rows(conn, outbox, [{**_row("k-2", kind="concern"), "status": "sent"}, _row("k-3", kind="concern")],
                         conflict=["idempotency_key"], update=["kind"])
    with store.connect() as conn:
        rows = conn.execute(select(outbox.c.idempotency_key, outbox.c.kind, outbox.c.status)
                            .order_by(outbox.c.idempotency_key)).all()
    assert [tuple(r) for r in rows] == [("k-1", "visit-report", "pending"), ("k-2", "concern", "pending"),
                                        ("k-3", "concern", "pending")]
