"""Benchmark ``hvc push``: 1,000 reports to the fake CPOMS, and how fast a concern reaches it.

Run: ``.venv/bin/python bench/push.py``

The fake CPOMS runs in its own process with 20 ms latency per request and a
token bucket of 20 requests/s for each school's token. Twenty schools (a
trust's worth; each its own token) have 50 finished visits each in the
outbox. From one run it prints:

(a) the wall time of the push (bounded concurrency, each token kept to
    20 requests/s by the client) as a ratio to a sequential one-at-a-time
    baseline on the same data — target ≥ 5× faster — and the 429s CPOMS
    answered: target 0 (the client never trips the limit);
(b) the time from a concern being written to its arrival in CPOMS while
    ``hvc watch`` runs as a daemon (the real process, its ticks and its
    concern polls every ``CONCERN_POLL_SECONDS`` between them) — target:
    under one watch interval; it is also given in concern polls, since a
    concern written just after a poll waits for the next one.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hv_connector.config.loading import load_settings  # noqa: E402
from hv_connector.outbox.push import Pusher  # noqa: E402
from hv_connector.outbox.queue import enqueue_visit_report  # noqa: E402
from hv_connector.outbox.sinks import open_sinks  # noqa: E402
from hv_connector.plugins import build_plugin_manager, merged_registry  # noqa: E402
from hv_connector.store import Store  # noqa: E402
from hv_connector.watch.daemon import CONCERN_POLL_SECONDS  # noqa: E402
from hvc_fixtures.data import SCHOOLS as DEMO_SCHOOLS  # noqa: E402
from hvc_fixtures.data import Dataset  # noqa: E402
from hvc_fixtures.serve import RunningServer, serve_in_subprocess  # noqa: E402
from tests.cpomskit import demo_visit, kit_policies, write_config  # noqa: E402

REPORTS = 1000
SCHOOL_COUNT = 20
RATE = 20.0
"""Requests per second the fake allows each token, and the client keeps to."""
LATENCY_MS = 20
PUPILS = 200
SEED = 1
CONCURRENCY = 32
WATCH_TICK = 2.0
CONCERNS = 5

SCHOOL_IDS = [f"trust-{n:02d}" for n in range(1, SCHOOL_COUNT + 1)]
TOKENS = {school: f"bench-token-{school}" for school in SCHOOL_IDS}
SLUG = {school: DEMO_SCHOOLS[n % len(DEMO_SCHOOLS)].slug for n, school in enumerate(SCHOOL_IDS)}
DATASET = Dataset(SEED, PUPILS)


def fresh_fake(server: RunningServer) -> None:
    """Forget every incident and count from zero; our twenty tokens, each onto a demo school."""
    server.control.reset()
    server.control.configure(tokens={TOKENS[s]: SLUG[s] for s in SCHOOL_IDS})


def outbox_of(workdir: Path, name: str, api: str) -> tuple[Store, Path]:
    """A new store holding REPORTS finished visits, interleaved across the schools as they would finish."""
    url = f"sqlite:///{workdir / f'{name}.db'}"
    config = write_config(workdir / f"{name}.toml", url, api, TOKENS, per_second=RATE)
    store = Store.open(url)
    policies = kit_policies(*SCHOOL_IDS)
    now = datetime.now(timezone.utc)
    for batch in range(0, REPORTS, 100):
        with store.begin() as conn:
            for n in range(batch, batch + 100):
                school = SCHOOL_IDS[n % SCHOOL_COUNT]
                visit = demo_visit(DATASET, SLUG[school], n % PUPILS, visit_id=f"{name}-{n}", school=school)
                enqueue_visit_report(conn, policies, visit, "home-visit", now=now, actor="bench")
    return store, config


def push_all(store: Store, config: Path, concurrency: int) -> tuple[float, Any]:
    settings = load_settings(config)
    sinks = open_sinks(settings, merged_registry(build_plugin_manager(load_entrypoints=False), "report_sinks"),
                       settings.schools)
    pusher = Pusher(store, sinks, now=lambda: datetime.now(timezone.utc), concurrency=concurrency)
    started = time.perf_counter()
    summary = asyncio.run(pusher.run())
    return time.perf_counter() - started, summary


def throughput(server: RunningServer, workdir: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    for name, concurrency in (("baseline", 1), ("push", CONCURRENCY)):
        fresh_fake(server)
        store, config = outbox_of(workdir, name, server.api)
        with store:
            wall, summary = push_all(store, config, concurrency)
        stats = server.control.stats()
        arrived = len(server.control.get("incidents")["data"])
        if summary.count("sent") != REPORTS or arrived != REPORTS:
            raise SystemExit(f"{name}: sent {summary.count('sent')}, CPOMS has {arrived}; expected {REPORTS}")
        results[f"{name}_seconds"] = wall
        results[f"{name}_requests"] = stats["requests"]
        results[f"{name}_429"] = stats["rate_limited"]
        print(f"{name:>8}: {REPORTS} reports in {wall:6.2f} s ({REPORTS / wall:6.1f}/s), "
              f"{stats['requests']} requests, {stats['rate_limited']} answered 429")
    return results


def concern_latency(server: RunningServer, workdir: Path) -> list[float]:
    """Write concerns while ``hvc watch`` runs; seconds from each write to its arrival in CPOMS."""
    fresh_fake(server)
    url = f"sqlite:///{workdir / 'watch.db'}"
    config = write_config(workdir / "watch.toml", url, server.api, {"trust-01": TOKENS["trust-01"]}, per_second=RATE)
    with config.open("a") as handle:
        handle.write(f"[watch]\ntick_seconds = {WATCH_TICK}\n")
    policies = kit_policies("trust-01")
    latencies: list[float] = []
    with Store.open(url) as store:
        env = {**os.environ, "HVC_CONFIG": str(config)}
        watch = subprocess.Popen([sys.executable, "-m", "hv_connector", "watch"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(3 * WATCH_TICK)  # the daemon is up and ticking
            for n in range(CONCERNS):
                time.sleep(WATCH_TICK * (0.3 + 0.17 * n))  # writes land at different points of the tick
                visit = demo_visit(DATASET, SLUG["trust-01"], n, visit_id=f"concern-{n}", school="trust-01",
                                   cp_concern=True, concerns="Unexplained bruising on the arm.")
                written = time.perf_counter()
                with store.begin() as conn:
                    enqueue_visit_report(conn, policies, visit, "concern", now=datetime.now(timezone.utc))
                while not any(i["source"]["record_id"] == f"concern-{n}/concern"
                              for i in server.control.get("incidents")["data"]):
                    if time.perf_counter() - written > 20 * WATCH_TICK:
                        raise SystemExit("a concern did not reach CPOMS within 20 watch intervals")
                    time.sleep(0.02)
                latencies.append(time.perf_counter() - written)
        finally:
            watch.terminate()
            watch.wait(10)
    print(f"concerns: {', '.join(f'{s:.2f}' for s in latencies)} s from written to in CPOMS "
          f"(watch interval {WATCH_TICK:g} s)")
    return latencies


def main() -> None:
    args = ["--seed", str(SEED), "--pupils", str(PUPILS), "--latency-ms", str(LATENCY_MS),
            "--rate-per-minute", str(RATE * 60)]
    with tempfile.TemporaryDirectory() as tmp, serve_in_subprocess("cpoms_server", *args) as server:
        workdir = Path(tmp)
        print(f"fake CPOMS: {LATENCY_MS} ms latency, {RATE:g} requests/s per token; "
              f"{SCHOOL_COUNT} schools, {REPORTS} reports")
        results = throughput(server, workdir)
        latencies = concern_latency(server, workdir)
    speedup = results["baseline_seconds"] / results["push_seconds"]
    print(f"push_speedup_vs_sequential: {speedup:.1f}x (target >= 5x)")
    print(f"push_429_responses: {results['push_429']} (target 0)")
    print(f"concern_latency_max: {max(latencies):.2f} s = {max(latencies) / WATCH_TICK:.2f} watch intervals "
          f"= {max(latencies) / CONCERN_POLL_SECONDS:.2f} concern polls (median {statistics.median(latencies):.2f} s; "
          f"target < 1 interval of {WATCH_TICK:g} s; polls every {CONCERN_POLL_SECONDS:g} s)")


if __name__ == "__main__":
    main()
