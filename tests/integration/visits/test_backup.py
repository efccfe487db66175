"""``hvc db backup`` copies a live store while visits are being written, and ``hvc db restore`` brings back
exactly that copy: its audit chain whole, every visit with its history."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from visitkit import NOW, birchwood_request  # type: ignore[import-not-found]

from hv_connector.clock import FixedClock
from hv_connector.runtime import Runtime
from hv_connector.store import Store, audit
from hv_connector.store.schema import visits
from hv_connector.visits.service import VisitService


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(600):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_backup_taken_during_writes_restores_with_its_chain_and_counts(  # type: ignore[no-untyped-def]
        hvc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = VisitService.from_runtime(Runtime(config_path=os.environ["HVC_CONFIG"], clock=FixedClock(NOW)))
    written: list[str] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            written.append(service.request(birchwood_request(), by="bw-pastoral").record.id)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        _wait_for(lambda: len(written) >= 5, "the first visits")
        code, out, err = hvc("db", "backup", "--out", str(tmp_path / "backup.db"))
        at_backup = len(written)
        _wait_for(lambda: len(written) >= at_backup + 5, "visits written after the backup")
    finally:
        stop.set()
        writer.join()
    assert code == 0, err
    held = re.search(r": (\d+) visit\(s\), (\d+) audit entries, audit chain intact\.", out)
    assert held, out
    backed_up = int(held.group(1))
    assert 5 <= backed_up < len(written)
    assert stat.S_IMODE((tmp_path / "backup.db").stat().st_mode) == 0o600

    restored = tmp_path / "restored.db"
    monkeypatch.setenv("HVC_DATABASE__URL", f"sqlite:///{restored}")
    code, out, err = hvc("db", "restore", str(tmp_path / "backup.db"), "--yes")
    assert code == 0, err
    assert f"{backed_up} visit(s), {held.group(2)} audit entries, audit chain intact" in out
    code, out, _ = hvc("audit", "verify", "--json")
    assert (code, json.loads(out)["ok"], json.loads(out)["entries"]) == (0, True, int(held.group(2)))
    with Store.open(f"sqlite:///{restored}") as store, store.connect() as conn:
        ids = list(conn.execute(select(visits.c.id)).scalars())
        assert len(ids) == backed_up == conn.execute(select(func.count()).select_from(visits)).scalar_one()
        assert all(audit.history(conn, visit_id) for visit_id in ids)


def test_a_backup_whose_audit_chain_is_broken_is_not_restored(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hvc("visit", "request", "--school", "birchwood", "--pupil", "B2000000001", "--reason", "attendance",
        "--start", "2026-11-23T10:00", "--minutes", "45", "--staff", "bw-pastoral", "--as", "bw-pastoral")
    assert hvc("db", "backup", "--out", str(tmp_path / "b.db"))[0] == 0
    with Store.open(f"sqlite:///{tmp_path / 'b.db'}") as store, store.begin() as conn:
        conn.exec_driver_sql("UPDATE audit SET actor = 'someone-else' WHERE seq = 1")
    code, _, err = hvc("db", "restore", str(tmp_path / "b.db"), "--yes")
    assert code == 2 and "audit log is broken at entry 1: it was not restored; try an earlier backup" in err


def test_postgres_stores_are_told_to_use_pg_dump(hvc, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HVC_DATABASE__URL", "postgresql+psycopg://hvc@db.example/hvc")
    code, _, err = hvc("db", "backup")
    assert code == 2 and "the store is PostgreSQL: back it up with `pg_dump --format=custom" in err
