"""Benchmark: the watch's tick with 10,000 visits out (plus history) against a tick with 10, and its lag.

Prints, from one run:

(a) the cost of the ticks that fire ten visits' escalation steps, in a store
    with 10,000 visits out and 20,000 finished visits with their escalations
    and events, as a ratio to the same ticks in a store with only those ten
    visits — target ≤ 2×: a tick costs what is due, not what is stored;
(b) the lag from an event falling due to its notifier firing, with the watch
    running as a daemon (real time, ticking every ``--tick`` seconds) on the
    big store — target: under one tick interval;
(c) delivering the messages of 100 visits' alarms with three watches at once
    on one PostgreSQL store, against one watch — target ≤ 1.2×, and the count
    of messages handed to the gateway twice (target 0);
(d) failover: two ``hvc watch`` daemons on PostgreSQL, one SIGKILLed at the
    moment a step falls due; from the kill to that message sent by the other,
    as a ratio to the tick interval — target < 1;
(e) a tick in which 1,000 visits fall overdue at once, against one in which
    10 do — target ≤ 5× (the median of three pairs, each on fresh stores).
    Shown beside it, with no target: the time each visit more adds inside the
    SQLite driver (sqlite3's own calls: executing the tick's statements,
    committing, handing back rows; the 1,000-visit tick's less the 10-visit
    tick's, over 990), against what ≤ 5× leaves for everything a visit
    (4 × the 10-visit tick, over 990) — the store's own share, which no
    Python above it can remove;
(f) the cold first tick with 10,000 visits out, against reading those
    visits' rows from the store — target ≤ 3×.

The big store starts in the watch's steady state (the queue and cursor as a
running watch leaves them), since a real watch has long since looked at the
visits that went out before the measured ticks. (c) and (d) need PostgreSQL
(``--pg``, default ``HVC_TEST_DATABASE_URL`` or the local server's ``test``
database; each run uses a schema of its own, dropped after); without one they
say so and are skipped.

    .venv/bin/python bench/watch.py [--out 10000] [--history 20000] [--tick 2] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "watch"))

from watchkit import (  # the tests' fictional Potton visits
    START,
    add_gateway,
    add_visits,
    gateway_lines,
    make_watch,
    visit_document,
    write_config,
)

from hv_connector.clock import FixedClock
from hv_connector.store import Store
from hv_connector.store.schema import (
    WATCH_PREFIX,
    escalations,
    heartbeats,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.visits.lifecycle import WATCHED
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


# --- (c) three watches against one, (d) failover: PostgreSQL ---------------------------------------------------

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SHARED = 100
"""Visits whose office call is missed at once, for (c): 100 alarms, a text each to the office."""
GATEWAY_SECONDS = 0.005
"""How long the fake gateway of (c) takes over each message."""


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL at ``base`` at the newest revision; its URL. Dropped after."""
    schema = f"hvc_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    try:
        Store.open(url, upgrade=True).close()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres(base: str) -> str | None:
    """Why PostgreSQL at ``base`` cannot be used, or ``None`` when it answers."""
    try:
        engine = create_engine(base, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip, saying why
        return str(exc).strip().splitlines()[0]
    return None


class _Gateway:
    """A notifier counting each message handed to it (from any watch), taking GATEWAY_SECONDS over each."""

    name = "gateway"

    def __init__(self) -> None:
        self.sent: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def addresses(self, notice: Notice) -> list[str]:
        return [r.mobile for r in notice.recipients if r.mobile]

    def send(self, notice: Notice, address: str) -> None:
        time.sleep(GATEWAY_SECONDS)
        with self.lock:
            self.sent[(notice.key, address)] += 1


def deliver_with(url: str, count: int) -> tuple[float, int, int]:
    """Seconds for ``count`` watches at once (a Store each, as processes would) to record and send SHARED alarms.

    Also the messages handed over, and how many of them twice.
    """
    stores = [Store.open(url) for _ in range(count)]
    add_visits(stores[0], [visit_document(f"S{n:03d}") for n in range(SHARED)])
    clock = FixedClock(START + timedelta(minutes=20))  # every office call missed
    gateway = _Gateway()
    watches = [make_watch(store, clock, notifiers=[gateway]) for store in stores]
    gate = threading.Barrier(count + 1)

    def tick(index: int) -> None:
        gate.wait()
        watches[index].tick()

    threads = [threading.Thread(target=tick, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for store in stores:
        store.close()
    return seconds, sum(gateway.sent.values()), sum(n - 1 for n in gateway.sent.values())


def failover(base: str, tick: float) -> float:
    """Seconds from SIGKILLing one of two ``hvc watch`` daemons, as a step falls due, to the other sending it."""
    with pg_schema(base) as url, tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "gateway.log"
        config = write_config(Path(folder), url)
        add_gateway(config, log, stamped=True)  # the gateway says when it was handed each message
        store = Store.open(url)
        begun = time.time() + 8  # the daemons are up and have ticked by then
        due = START + timedelta(hours=2)
        # Overdue (step 1) falls due 10 minutes after the return: 12:00 on the clock, `begun` in real time.
        add_visits(store, [visit_document("F1", back=due - START - timedelta(minutes=10),
                                          check_ins=[{"at": (START + timedelta(minutes=9)).isoformat(),
                                                      "kind": "office-call"}])])
        env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
        env.update(HVC_CLOCK_START=f"{due.isoformat()}@{begun:.3f}", HVC_WATCH__TICK_SECONDS=f"{tick:g}")
        hvc = str(Path(sys.executable).with_name("hvc"))
        daemons = [subprocess.Popen([hvc, "--config", str(config), "watch"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(2)]
        def overdue() -> list[float]:  # when the gateway was handed the step (the visit's reminder went earlier)
            return [float(line.split("|", 1)[0]) for line in gateway_lines(log) if "|F1|overdue|" in line]

        try:
            time.sleep(max(0.0, begun - time.time()))
            with store.connect() as conn:
                up = conn.execute(select(func.count()).select_from(heartbeats)
                                  .where(heartbeats.c.name.startswith(WATCH_PREFIX))).scalar_one()
            if up < 2:
                print(f"failover: only {up} of the 2 watches had ticked before the kill (a slow machine)")
            daemons[0].send_signal(signal.SIGKILL)
            killed = time.time()
            while not overdue() and time.time() < killed + 60:
                time.sleep(0.01)
        finally:
            for daemon in daemons:
                daemon.send_signal(signal.SIGKILL)
                daemon.wait()
            store.close()
        sent = overdue()
        return min(sent) - killed if sent else float("inf")


# --- (e) many falling overdue at once, (f) the cold first tick ------------------------------------------------------


def overdue_tick(url: str, count: int, *, in_driver: bool = False) -> float:
    """Seconds for the tick in which ``count`` visits (their office call made) fall overdue at once.

    With ``in_driver``, the seconds of that tick spent inside sqlite3's own calls instead (:class:`DriverTime`).
    """
    store = Store.open(url, upgrade=True)
    add_visits(store, [visit_document(f"O{n:05d}", check_ins=called_in()) for n in range(count)])
    clock = FixedClock(START + timedelta(minutes=30))
    watch = make_watch(store, clock, notifiers=[])
    watch.tick()  # the watch has seen them go out
    clock.set(START + timedelta(minutes=70))  # 11:10: every one overdue
    driver = DriverTime()
    started = time.perf_counter()
    with driver.counting(in_driver):
        result = watch.tick()
    seconds = time.perf_counter() - started
    assert len(result.fired) == count, len(result.fired)
    store.close()
    return driver.seconds if in_driver else seconds


class DriverTime:
    """The time spent inside the sqlite3 module's own calls (execute, executemany, commit, fetching rows, …).

    Counted with a profile hook on C calls, on this thread (the tick runs on it). The hook slows the Python
    around those calls, which is not counted; the calls themselves are timed as they run.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: list[float] = []

    def _hook(self, _frame: object, event: str, arg: object) -> None:
        if event == "c_call":
            if isinstance(getattr(arg, "__self__", None), (sqlite3.Connection, sqlite3.Cursor)):
                self._started.append(time.perf_counter())
            else:
                self._started.append(-1.0)
        elif event in ("c_return", "c_exception") and self._started:
            began = self._started.pop()
            if began >= 0:
                self.seconds += time.perf_counter() - began

    @contextmanager
    def counting(self, on: bool) -> Iterator[None]:
        """Count the block's time in sqlite3's calls, when ``on``."""
        if not on:
            yield
            return
        sys.setprofile(self._hook)
        try:
            yield
        finally:
            sys.setprofile(None)


def overdue_ticks(folder: str, rounds: int = 3) -> tuple[list[tuple[float, float]], float]:
    """``rounds`` pairs of (the 10-visit tick, the 1,000-visit tick) in seconds, each on fresh stores; and the
    seconds in the SQLite driver that each visit more adds to the tick (the least of ``rounds``)."""
    pairs = [(overdue_tick(f"sqlite:///{folder}/few-{n}.db", HOT), overdue_tick(f"sqlite:///{folder}/many-{n}.db", 1000))
             for n in range(rounds)]
    few = min(overdue_tick(f"sqlite:///{folder}/driver-few-{n}.db", HOT, in_driver=True) for n in range(rounds))
    many = min(overdue_tick(f"sqlite:///{folder}/driver-many-{n}.db", 1000, in_driver=True) for n in range(rounds))
    return pairs, (many - few) / (1000 - HOT)


def cold_start(url: str, count: int) -> tuple[float, float]:
    """Seconds for the first tick ever with ``count`` visits out, and for reading those visits' rows."""
    store = Store.open(url, upgrade=True)
    add_visits(store, [visit_document(f"C{n:05d}", back=timedelta(hours=7), check_ins=called_in())
                       for n in range(count)])
    started = time.perf_counter()
    with store.connect() as conn:
        rows = conn.execute(select(visits.c.id, visits.c.school_id, visits.c.state, visits.c.data,
                                   visits.c.address_text).where(visits.c.state.in_([s.value for s in WATCHED]))).all()
    reading = time.perf_counter() - started
    assert len(rows) == count
    watch = make_watch(store, FixedClock(START + timedelta(minutes=30)), notifiers=[])
    started = time.perf_counter()
    result = watch.tick()
    first = time.perf_counter() - started
    assert result.checked == count, result.checked
    store.close()
    return first, reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=int, default=10_000, help="visits out in the big store")
    parser.add_argument("--history", type=int, default=20_000, help="finished visits in the big store")
    parser.add_argument("--tick", type=float, default=2.0, help="daemon tick interval for the lag, seconds")
    parser.add_argument("--pg", default=os.environ.get("HVC_TEST_DATABASE_URL") or DEFAULT_PG,
                        help="a PostgreSQL URL for (c) and (d)")
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
        pairs, driver = overdue_ticks(folder)
        print(f"ticks in which visits fall overdue at once — {HOT}: "
              + ", ".join(f"{few * 1000:.0f} ms" for few, _ in pairs) + "; 1,000: "
              + ", ".join(f"{many:.2f} s" for _, many in pairs))
        overdue = statistics.median(many / few for few, many in pairs)
        budget = 4 * statistics.median(few for few, _ in pairs) / (1000 - HOT)
        print(f"{'store floor':>12}: each visit more adds {driver * 1e6:.0f} µs inside the SQLite driver to the tick; "
              f"<= 5x leaves {budget * 1e6:.0f} µs a visit for everything (no target: the store's own share)")
        first, reading = cold_start(f"sqlite:///{folder}/cold.db", args.out)
        print(f"first tick with {args.out:,} visits out: {first:.2f} s; reading their rows: {reading:.2f} s")
    unavailable = postgres(args.pg)
    if unavailable is None:
        with pg_schema(args.pg) as url:
            one, _sent, _twice = deliver_with(url, 1)
        with pg_schema(args.pg) as url:
            three, sent, twice = deliver_with(url, 3)
        print(f"delivering {SHARED} alarms on PostgreSQL — one watch: {one:.2f} s; three at once: {three:.2f} s "
              f"({sent} messages handed over)")
        taken = failover(args.pg, args.tick)
        print(f"failover: the other watch sent the step {taken:.2f} s after the kill")
    else:
        print(f"PostgreSQL at {make_url(args.pg).render_as_string(hide_password=True)} did not answer ({unavailable}):"
              " (c) and (d) skipped; pass --pg URL")
    print(f"tick_cost_ratio_{args.out}_vs_{HOT}: {ratio:.2f}x (target <= 2x)")
    print(f"max_lag_in_ticks: {max(lags) / args.tick:.2f} (target < 1 tick of {args.tick:g} s)")
    if unavailable is None:
        print(f"delivery_3_watches_vs_1_on_postgresql: {three / one:.2f}x (target <= 1.2x)")
        print(f"duplicate_messages_with_3_watches: {twice} (target 0)")
        print(f"failover_in_ticks: {taken / args.tick:.2f} (target < 1 tick of {args.tick:g} s)")
    print(f"overdue_tick_ratio_1000_vs_{HOT}: {overdue:.2f}x (target <= 5x)")
    print(f"cold_first_tick_vs_reading_{args.out}_rows: {first / reading:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
