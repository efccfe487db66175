"""Benchmark: the watch's tick with 10,000 visits out (plus history) against a tick with 10, and its lag.

Prints, from one run:

(a) the cost of the ticks that fire ten visits' escalation steps, in a store
    with 10,000 visits out and 20,000 finished visits with their escalations
    and events, as a ratio to the same ticks in a store with only those ten
    visits — target ≤ 2×: a tick costs what is due, not what is stored;
(b) the lag from an event falling due to its notifier firing, with the watch
    running as a daemon (real time, ticking every ``--tick`` seconds) on the
    big store — target: under one tick interval.

The big store starts in the watch's steady state (the queue and cursor as a
running watch leaves them), since a real watch has long since looked at the
visits that went out before the measured ticks.

    .venv/bin/python bench/watch.py [--out 10000] [--history 20000] [--tick 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "watch"))

from watchkit import (  # the tests' fictional Potton visits
    START,
    add_visits,
    make_watch,
    visit_document,
)

from hv_connector.clock import FixedClock
from hv_connector.store import Store
from hv_connector.store.schema import (
    escalations,
    heartbeats,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.watch.daemon import run_daemon
from hv_connector.watch.notify import Notice

HOT = 10
"""Visits whose steps fall due during the measured ticks, in both stores."""
STEPS = [START + timedelta(minutes=m) for m in (70, 80, 95, 110)]
"""11:10, 11:20, 11:35, 11:50: Potton's chain for a visit due back at 11:00 (step 1, 2, 3, all alerted)."""


def called_in() -> list[dict]:
    """The 10-minute office call, made: these visits only escalate when overdue."""
    return [{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}]


def build(url: str, out: int, history: int) -> Store:
    """A store with HOT visits due back at 11:00, ``out - HOT`` due back at 17:00, and ``history`` finished ones."""
    store = Store.open(url, upgrade=True)
    add_visits(store, [visit_document(f"H{n:05d}", check_ins=called_in()) for n in range(HOT)])
    cold = [visit_document(f"C{n:05d}", back=timedelta(hours=7), check_ins=called_in()) for n in range(out - HOT)]
    add_visits(store, cold)
    if history:
        template = visit_document("P", start=START - timedelta(days=30), check_ins=called_in())
        add_visits(store, [template.model_copy(update={"id": f"P{n:06d}"}) for n in range(history)], state="closed")
        rows = [{"visit_id": f"P{n:06d}", "kind": "overdue", "step_index": s, "key": f"P{n:06d}/old/step/{s}",
                 "due_at": template.planned_start, "fired_at": template.planned_start,
                 "closed_at": template.planned_start, "school_id": "potton", "message": "old"}
                for n in range(history) for s in range(2)]
        with store.begin() as conn:
            for chunk in range(0, len(rows), 2000):
                conn.execute(insert(escalations), rows[chunk:chunk + 2000])
    with store.begin() as conn:  # the steady state a running watch leaves: cold visits queued for 16:55
        if cold:
            conn.execute(insert(watch_queue), [{"visit_id": v.id, "due_at": START + timedelta(hours=6, minutes=55)}
                                               for v in cold])
        conn.execute(insert(watch_queue), [{"visit_id": f"H{n:05d}", "due_at": START} for n in range(HOT)])
        top = conn.execute(select(func.max(visit_events.c.id))).scalar_one()
        conn.execute(insert(heartbeats).values(name="watch", at=START, detail={"cursor": top}))
    return store


def tick_costs(store: Store) -> list[float]:
    """Seconds for each tick at STEPS (each fires one step for each of the HOT visits)."""
    clock = FixedClock(START)
    watch = make_watch(store, clock, notifiers=[])
    costs = []
    for moment in STEPS:
        clock.set(moment)
        started = time.perf_counter()
        result = watch.tick()
        costs.append(time.perf_counter() - started)
        assert len(result.fired) == HOT, (moment, len(result.fired))
    return costs


class _Stopwatch:
    """A notifier noting, for each event, the real time it was sent."""

    name = "stopwatch"

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}

    def addresses(self, notice: Notice) -> list[str]:
        return ["bench"]

    def send(self, notice: Notice, address: str) -> None:
        self.sent.setdefault(notice.key, time.time())


class _RealTimeFrom:
    """The London clock running in real time from ``start`` (the moment this object is made)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.made = start, time.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.made)


def lag(store: Store, tick: float) -> list[float]:
    """Seconds from each event falling due (in real time) to its notifier firing, under the daemon."""
    # New visits due back at 13:00:00 + 0..9 s: overdue (step 1) 13:10:00 + 0..9 s.
    spread = [visit_document(f"L{n:02d}", back=timedelta(hours=3, seconds=n), check_ins=called_in())
              for n in range(HOT)]
    add_visits(store, spread)
    clock = _RealTimeFrom(START + timedelta(hours=3, minutes=10) - timedelta(seconds=2))
    stopwatch = _Stopwatch()
    watch = make_watch(store, clock, notifiers=[stopwatch])
    watch.tick()  # the watch was running: it has seen the new visits go out
    stop = threading.Event()
    daemon = threading.Thread(target=run_daemon, args=(watch, tick), kwargs={"stop": stop})
    daemon.start()
    deadline = time.time() + 60
    while len([k for k in stopwatch.sent if k.startswith("L") and "/step/" in k]) < HOT and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    daemon.join()
    with store.connect() as conn:
        due = dict(conn.execute(select(escalations.c.key, escalations.c.due_at)
                                .where(escalations.c.visit_id.like("L%"), escalations.c.kind == "overdue")).all())
    # The real time the clock showed ``due_at`` is ``made + (due_at - start)``.
    return [stopwatch.sent[key] - (clock.made + (due_at - clock.start).total_seconds()) for key, due_at in due.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=int, default=10_000, help="visits out in the big store")
    parser.add_argument("--history", type=int, default=20_000, help="finished visits in the big store")
    parser.add_argument("--tick", type=float, default=2.0, help="daemon tick interval for the lag, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small = build(f"sqlite:///{folder}/small.db", HOT, 0)
        started = time.perf_counter()
        big = build(f"sqlite:///{folder}/big.db", args.out, args.history)
        print(f"built the big store ({args.out:,} out, {args.history:,} finished) in "
              f"{time.perf_counter() - started:.1f} s")
        with big.connect() as conn:
            print(f"  visits: {conn.execute(select(func.count()).select_from(visits)).scalar_one():,}, "
                  f"escalations: {conn.execute(select(func.count()).select_from(escalations)).scalar_one():,}")
        tick_costs(build(f"sqlite:///{folder}/warm-up.db", HOT, 0))  # plugins loaded, statements compiled
        small_costs, big_costs = tick_costs(small), tick_costs(big)
        print(f"ticks firing {HOT} steps each — small store: "
              + ", ".join(f"{c * 1000:.0f} ms" for c in small_costs)
              + "; big store: " + ", ".join(f"{c * 1000:.0f} ms" for c in big_costs))
        ratio = statistics.median(b / s for b, s in zip(big_costs, small_costs, strict=True))
        lags = lag(big, args.tick)
        print(f"lag over {len(lags)} events with a {args.tick:g} s tick: median {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s")
        small.close()
        big.close()
    print(f"tick_cost_ratio_{args.out}_vs_{HOT}: {ratio:.2f}x (target <= 2x)")
    print(f"max_lag_in_ticks: {max(lags) / args.tick:.2f} (target < 1 tick of {args.tick:g} s)")


if __name__ == "__main__":
    main()
