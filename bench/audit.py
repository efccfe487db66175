"""Benchmark: what data protection costs — access logging on the dashboard, record hashes in audit verify.

1. The dashboard's first paint on 50,000 visits (the store of ``bench/dashboard.py``), with the access log
   written for every visit the screens show, against the same paint with access logging switched off
   (a session whose ``_shown`` does nothing), interleaved round by round; the median of 15 rounds each way,
   since one paint varies by a third from run to run, far more than the access log adds.
2. ``hvc audit verify`` on 1,000,000 audit entries that carry record hashes (100,000 visits, ten entries
   each, the last one with its visit's snapshot): the chain alone (``audit.inspect``) against the chain plus
   re-hashing every visit's records and comparing (what ``hvc audit verify`` does).

The machines are shared and noisy: only the ratios are compared with the targets.

    .venv/bin/python bench/audit.py [--visits N] [--entries N] [--rounds R] [--paint-rounds P]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]  # bench/dashboard.py's store and Pilot measure; its test kits

from dashboard import build_store, painted  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from hv_connector.plugins import Policies, build_plugin_manager  # noqa: E402
from hv_connector.store import Store, audit, records  # noqa: E402
from hv_connector.store.hashing import digest  # noqa: E402
from hv_connector.store.schema import audit as audit_table  # noqa: E402
from hv_connector.store.schema import audit_tip, visit_events, visits  # noqa: E402
from hvc_tui.session import Session  # noqa: E402

TARGET_PAINT, TARGET_VERIFY = 1.1, 2.0
ENTRIES_PER_VISIT = 10
START = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)


def first_paint(path: Path, policies: Policies, *, logged: bool) -> float:
    """Seconds to the dashboard's first full paint (``bench/dashboard.py``'s), access log on or off."""
    shown = Session._shown
    if not logged:
        Session._shown = lambda self, screen, seen: None  # type: ignore[method-assign]
    try:
        return asyncio.run(painted(path, policies))
    finally:
        Session._shown = shown  # type: ignore[method-assign]


def build_audit_store(path: Path, entries: int) -> None:
    """A store with ``entries`` chained audit entries about ``entries / 10`` visits, each visit's last carrying records."""
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    count = max(entries // ENTRIES_PER_VISIT, 1)
    with store.begin() as conn:
        for first in range(0, count, 5000):
            ids = [f"v-{n:08d}" for n in range(first, min(first + 5000, count))]
            conn.execute(insert(visits), [
                {"id": vid, "school_id": "potton", "pupil_mis_id": "A1", "state": "closed", "planned_start": START,
                 "address_text": "1 Example Road", "reason": "attendance", "staff_ids": ["s1"], "data": {"id": vid},
                 "version": 1, "created_at": START, "updated_at": START} for vid in ids])
            conn.execute(insert(visit_events), [
                {"visit_id": vid, "at": START, "actor": "s1", "event": event, "to_state": event}
                for vid in ids for event in ("request", "close")])
        prev, seq, rows = audit.GENESIS_HASH, 0, []
        for first in range(0, count, 5000):
            ids = [f"v-{n:08d}" for n in range(first, min(first + 5000, count))]
            snapshots = records.snapshot(conn, ids)
            for vid in ids:
                for step in range(ENTRIES_PER_VISIT):
                    seq += 1
                    detail = {"step": step, "note": "A fictional note about the visit."}
                    fields: dict[str, Any] = {
                        "seq": seq, "at": START + timedelta(seconds=seq), "school_id": "potton", "visit_id": vid,
                        "actor": "s1", "action": "visit.step", "state": "closed", "detail": detail,
                        "detail_hash": digest(detail),
                        "records": snapshots[vid] if step == ENTRIES_PER_VISIT - 1 else None}
                    digest_ = audit.entry_hash(prev, fields)
                    rows.append({**fields, "prev_hash": prev, "hash": digest_})
                    prev = digest_
            conn.execute(insert(audit_table), rows)
            rows = []
        conn.execute(update(audit_tip).values(seq=seq, hash=prev))
    store.close()


def verify_seconds(path: Path, *, with_records: bool) -> float:
    """Seconds for the chain alone, or for the chain plus every visit's records re-hashed and compared."""
    with Store.open(f"sqlite:///{path}") as store, store.connect() as conn:
        started = time.perf_counter()
        recorded: dict[str, dict[str, str]] = {}
        assert audit.inspect(conn, records=recorded if with_records else None) is None
        if with_records:
            assert not records.compare(recorded, records.snapshot(conn, recorded))
            assert not records.unrecorded(conn, list(recorded))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of audit verify, each way")
    parser.add_argument("--paint-rounds", type=int, default=15,
                        help="rounds of the first paint, each way (a paint varies by a third from run to run, "
                             "far more than the access log adds, so it needs more samples than verify)")
    args = parser.parse_args()
    policies = Policies(build_plugin_manager())
    with tempfile.TemporaryDirectory() as tmp:
        dash, log = Path(tmp) / "dashboard.db", Path(tmp) / "audit.db"
        built = time.perf_counter()
        build_store(dash, args.visits)
        build_audit_store(log, args.entries)
        print(f"built stores: {args.visits} visits; {args.entries} audit entries in {time.perf_counter() - built:.1f}s")
        paints: dict[bool, list[float]] = {False: [], True: []}
        verifies: dict[bool, list[float]] = {False: [], True: []}
        first_paint(dash, policies, logged=True)  # warm-up (caches, imports), not counted
        # Interleaved, each going first in turn, so load hits both alike.
        for round_ in range(args.paint_rounds):
            for on in ((False, True) if round_ % 2 else (True, False)):
                paints[on].append(first_paint(dash, policies, logged=on))
        for round_ in range(args.rounds):
            for on in ((False, True) if round_ % 2 else (True, False)):
                verifies[on].append(verify_seconds(log, with_records=on))
    paint = {on: statistics.median(v) for on, v in paints.items()}
    verify = {on: statistics.median(v) for on, v in verifies.items()}
    print(f"first paint with {args.visits} visits: {paint[True] * 1000:.0f} ms with the access log, "
          f"{paint[False] * 1000:.0f} ms without")
    print(f"audit verify on {args.entries} entries: {verify[True]:.1f} s with record hashes, "
          f"{verify[False]:.1f} s for the chain alone")
    print(f"access_log_paint_ratio: {paint[True] / paint[False]:.2f} (target ≤ {TARGET_PAINT})")
    print(f"verify_records_ratio: {verify[True] / verify[False]:.2f} (target ≤ {TARGET_VERIFY})")


if __name__ == "__main__":
    main()
