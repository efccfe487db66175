"""Benchmark ``hvc push``: 1,000 reports to the fake CPOMS at its rate floor, its CPU, and a concern's latency.

Run: ``.venv/bin/python bench/push.py`` (``--manual-only`` for (d) alone: no fake CPOMS, no watch)

The fake CPOMS runs in its own process with a token bucket of 20 requests/s
for each school's token. Twenty schools (a trust's worth; each its own token)
have 50 finished visits each in the outbox: 51 requests per token (the
categories, then 50 incidents), so no push can take less than the per-token
**rate floor** of 51 / 20 = 2.55 s. Every push here uses the CLI's default
concurrency (``Pusher``'s, which ``hvc push`` passes through unchanged: each
school's window sized from its token's rate and CPOMS's measured latency). It
prints:

(a) the push's wall time as a ratio to the rate floor, at 20 ms and at 200 ms
    (a real receiver's) latency — target ≤ 1.3× — with, at 200 ms, the same push
    held to a fixed 8 in flight (the old default) for comparison; and the 429s
    CPOMS answered: target 0 (the client never trips the limit);
(b) the pusher's CPU per record — the outbox's own work (claims, results,
    scheduling) through a sink that answers at once — target ≤ 1 ms; and, for
    the whole process over HTTP, CPU per record beside a bare httpx request to
    the same fake measured in this run (the HTTP client's floor), and the fake's
    own CPU (it must not be what paces the push);
(c) the time from a concern being written to its arrival in CPOMS while
    ``hvc watch`` runs as a daemon (the real process, its ticks and its
    concern polls every ``CONCERN_POLL_SECONDS`` between them) — target ≤ 1 s;
(d) the manual sink (the default: a PDF and a paste block per record, for the
    DSL team): 1,000 records pushed through it, CPU per record as a ratio to
    rendering the record's paste block — target ≤ 20× — and the push's peak
    memory for 1,000 records vs 100 — target ≤ 1.3× (each in a fresh process,
    the peak reset once its outbox is filled). Beside the ratio: the same paste
    blocks printed each as one tagged paragraph, no tables or headings beyond
    one: the least a PDF of the record's text costs with typst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hv_connector.builtin.manual_sink import ManualSink  # noqa: E402
from hv_connector.cli.push_cmd import push as push_command  # noqa: E402
from hv_connector.config.loading import load_settings  # noqa: E402
from hv_connector.outbox.entry import paste_block  # noqa: E402
from hv_connector.outbox.push import Pusher, PushSummary  # noqa: E402
from hv_connector.outbox.queue import enqueue_visit_report, record_from_row  # noqa: E402
from hv_connector.outbox.sinks import SinkFor, open_sinks  # noqa: E402
from hv_connector.plugins import build_plugin_manager, merged_registry  # noqa: E402
from hv_connector.printing import Document, Paragraph, Section, render  # noqa: E402
from hv_connector.store import Store  # noqa: E402
from hv_connector.store.schema import outbox  # noqa: E402
from hv_connector.watch.daemon import CONCERN_POLL_SECONDS  # noqa: E402
from hvc_fixtures.data import SCHOOLS as DEMO_SCHOOLS  # noqa: E402
from hvc_fixtures.data import Dataset  # noqa: E402
from hvc_fixtures.serve import RunningServer, serve_in_subprocess  # noqa: E402
from tests.cpomskit import AnswersAtOnce, demo_visit, kit_policies, write_config  # noqa: E402

REPORTS = 1000
SCHOOL_COUNT = 20
RATE = 20.0
"""Requests per second the fake allows each token, and the client keeps to."""
LATENCIES_MS = (20, 200)
"""The fake's answer time: a fast receiver on loopback, and a real one on the internet."""
OLD_CONCURRENCY = 8
"""The fixed number in flight ``hvc push`` used before it sized its windows (the comparison at 200 ms)."""
PUPILS = 200
SEED = 1
WATCH_TICK = 2.0
CONCERNS = 5
BARE_REQUESTS = 1000
MANUAL_COUNTS = (100, REPORTS)

SCHOOL_IDS = [f"trust-{n:02d}" for n in range(1, SCHOOL_COUNT + 1)]
TOKENS = {school: f"bench-token-{school}" for school in SCHOOL_IDS}
SLUG = {school: DEMO_SCHOOLS[n % len(DEMO_SCHOOLS)].slug for n, school in enumerate(SCHOOL_IDS)}
DATASET = Dataset(SEED, PUPILS)
REQUESTS_PER_TOKEN = 1 + REPORTS // SCHOOL_COUNT
"""The categories once, then one POST per report."""
RATE_FLOOR = REQUESTS_PER_TOKEN / RATE
"""Seconds no push can beat: each token's requests at its rate."""


def fresh_fake(server: RunningServer, latency_ms: float) -> None:
    """Forget every incident and count from zero; our twenty tokens, each onto a demo school."""
    server.control.reset()
    server.control.configure(tokens={TOKENS[s]: SLUG[s] for s in SCHOOL_IDS}, latency_ms=latency_ms)


def filled_outbox(workdir: Path, count: int = REPORTS) -> Path:
    """A store holding ``count`` finished visits, interleaved across the schools as they would finish (copied per run)."""
    path = workdir / "filled.db"
    policies = kit_policies(*SCHOOL_IDS)
    now = datetime.now(timezone.utc)
    with Store.open(f"sqlite:///{path}") as store:
        for batch in range(0, count, 100):
            with store.begin() as conn:
                for n in range(batch, min(count, batch + 100)):
                    school = SCHOOL_IDS[n % SCHOOL_COUNT]
                    visit = demo_visit(DATASET, SLUG[school], n % PUPILS, visit_id=f"visit-{n}", school=school)
                    enqueue_visit_report(conn, policies, visit, "home-visit", now=now, actor="bench")
    return path


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid() -> int:
    """The fake CPOMS: this process's only child while no watch runs."""
    [child] = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    return int(child)


def timed_push(store: Store, sink_for: SinkFor, **options: Any) -> tuple[float, float, PushSummary]:
    """Push everything due: (wall seconds, this process's CPU seconds, summary)."""
    pusher = Pusher(store, sink_for, now=lambda: datetime.now(timezone.utc), **options)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = asyncio.run(pusher.run())
    return time.perf_counter() - wall, time.process_time() - cpu, summary


def push_run(server: RunningServer, workdir: Path, filled: Path, name: str, latency_ms: float,
             **options: Any) -> dict[str, float]:
    """One push of the filled outbox to the fake at ``latency_ms``; the CLI's defaults unless ``options`` say."""
    fresh_fake(server, latency_ms)
    shutil.copy(filled, workdir / f"{name}.db")
    url = f"sqlite:///{workdir / f'{name}.db'}"
    settings = load_settings(write_config(workdir / f"{name}.toml", url, server.api, TOKENS, per_second=RATE))
    sinks = open_sinks(settings, merged_registry(build_plugin_manager(load_entrypoints=False), "report_sinks"),
                       settings.schools)
    pid = server_pid()
    fake_cpu = process_cpu(pid)
    with Store.open(url) as store:
        wall, cpu, summary = timed_push(store, sinks, **options)
    fake_cpu = process_cpu(pid) - fake_cpu
    stats = server.control.stats()
    arrived = len(server.control.get("incidents")["data"])
    if summary.count("sent") != REPORTS or arrived != REPORTS:
        raise SystemExit(f"{name}: sent {summary.count('sent')}, CPOMS has {arrived}; expected {REPORTS}")
    print(f"{name:>16}: {REPORTS} reports in {wall:5.2f} s = {wall / RATE_FLOOR:.2f}x the rate floor, "
          f"{stats['requests']} requests, {stats['rate_limited']} answered 429; CPU {cpu / REPORTS * 1000:.2f} ms "
          f"per record here, {fake_cpu / REPORTS * 1000:.2f} ms in the fake (busy {fake_cpu / wall:.0%})")
    return {"wall": wall, "cpu": cpu, "fake_cpu": fake_cpu, "rate_limited": stats["rate_limited"]}


def pusher_cpu(workdir: Path, filled: Path) -> float:
    """CPU seconds per record of a push through :class:`AnswersAtOnce`: claims, results and scheduling, no HTTP."""
    shutil.copy(filled, workdir / "at-once.db")
    with Store.open(f"sqlite:///{workdir / 'at-once.db'}") as store:
        wall, cpu, summary = timed_push(store, lambda _school: AnswersAtOnce())
    if summary.count("sent") != REPORTS:
        raise SystemExit(f"at-once: sent {summary.count('sent')} of {REPORTS}")
    print(f"{'at-once sink':>16}: {REPORTS} reports in {wall:5.2f} s, CPU {cpu / REPORTS * 1000:.2f} ms per record")
    return cpu / REPORTS


def bare_httpx_cpu(server: RunningServer) -> float:
    """CPU seconds per request of httpx alone: one client, keep-alive, GETs to the fake with nothing else around."""
    fresh_fake(server, 0)

    async def run() -> float:
        headers = {"Authorization": f"Bearer {TOKENS[SCHOOL_IDS[0]]}"}
        async with httpx.AsyncClient(headers=headers) as client:
            url = httpx.URL(f"{server.api}/categories")
            gate = asyncio.Semaphore(8)

            async def one() -> None:
                async with gate:
                    (await client.get(url)).json()

            started = time.process_time()
            await asyncio.gather(*(one() for _ in range(BARE_REQUESTS)))
            return (time.process_time() - started) / BARE_REQUESTS

    cpu = asyncio.run(run())
    print(f"{'bare httpx':>16}: {BARE_REQUESTS} GETs to the fake, CPU {cpu * 1000:.2f} ms per request")
    return cpu


def manual_push(count: int) -> dict[str, float]:
    """In a fresh process: ``count`` records through the manual sink; CPU per record, its text's, and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{filled_outbox(workdir, count)}"
        with Store.open(url) as store:
            Path("/proc/self/clear_refs").write_text("5")  # the peak from here on: the push's own
            _wall, cpu, summary = timed_push(store, lambda school: ManualSink(workdir / "records" / school))
            peak = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                        if line.startswith("VmHWM:"))
            if summary.count("written") != count:
                raise SystemExit(f"manual: wrote {summary.count('written')} of {count}")
            with store.connect() as conn:
                reports = [record_from_row(row).report for row in conn.execute(outbox.select())]
        started = time.process_time()
        blocks = [paste_block(report) for report in reports]
        text = time.process_time() - started
        started = time.process_time()
        for block in blocks:  # each a new text, so typst's cache cannot answer for it
            render("document", Document(title="Record", sections=[Section(heading="Record", blocks=[
                Paragraph(text=block)])]).model_dump())
        floor = time.process_time() - started
    return {"pdf": cpu / count, "text": text / count, "floor": floor / count, "peak_kib": peak}


def manual_sink_runs() -> dict[int, dict[str, float]]:
    """:func:`manual_push` for each of MANUAL_COUNTS, each in its own process (so its peak memory is its own)."""
    runs: dict[int, dict[str, float]] = {}
    for count in MANUAL_COUNTS:
        done = subprocess.run([sys.executable, __file__, "--manual", str(count)], capture_output=True, text=True,
                              check=True)
        runs[count] = json.loads(done.stdout.splitlines()[-1])
        print(f"{f'manual {count}':>16}: {runs[count]['pdf'] * 1000:.1f} ms CPU per record (PDF and paste block), "
              f"{runs[count]['text'] * 1000:.2f} ms to render its paste block alone, "
              f"{runs[count]['floor'] * 1000:.2f} ms to print that block as one paragraph (typst's floor); peak "
              f"{runs[count]['peak_kib'] / 1024:.0f} MiB")
    return runs


def concern_latency(server: RunningServer, workdir: Path) -> list[float]:
    """Write concerns while ``hvc watch`` runs; seconds from each write to its arrival in CPOMS."""
    fresh_fake(server, LATENCIES_MS[0])
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
    print(f"{'concerns':>16}: {', '.join(f'{s:.2f}' for s in latencies)} s from written to in CPOMS "
          f"(watch interval {WATCH_TICK:g} s, concern polls every {CONCERN_POLL_SECONDS:g} s)")
    return latencies


def cli_default_concurrency() -> Any:
    """What ``hvc push`` passes as ``concurrency`` when not told: the bench must measure that, not its own."""
    return push_command.make_context("push", []).params["concurrency"]


def print_manual(manual: dict[int, dict[str, float]]) -> None:
    """The manual sink's figures: (d)."""
    most, fewest = manual[MANUAL_COUNTS[-1]], manual[MANUAL_COUNTS[0]]
    print(f"{'typst floor':>16}: the paste block printed as one tagged paragraph alone, "
          f"{most['floor'] / most['text']:.1f}x rendering it (no target: the least a PDF of the record's text costs)")
    print(f"manual_sink_pdf_cost_vs_text: {most['pdf'] / most['text']:.1f}x (target <= 20x; "
          f"{most['pdf'] * 1000:.1f} ms vs {most['text'] * 1000:.2f} ms per record, {MANUAL_COUNTS[-1]} records)")
    print(f"manual_sink_peak_memory_{MANUAL_COUNTS[-1]}_vs_{MANUAL_COUNTS[0]}: "
          f"{most['peak_kib'] / fewest['peak_kib']:.2f}x (target <= 1.3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manual-only", action="store_true", help="measure (d), the manual sink, alone")
    parser.add_argument("--manual", type=int, metavar="COUNT", help=argparse.SUPPRESS)  # the child of (d)
    options = parser.parse_args()
    if options.manual is not None:
        print(json.dumps(manual_push(options.manual)))
        return
    if options.manual_only:
        print_manual(manual_sink_runs())
        return
    if cli_default_concurrency() is not None:
        raise SystemExit("`hvc push --concurrency` has a default again: measure that default here")
    args = ["--seed", str(SEED), "--pupils", str(PUPILS), "--rate-per-minute", str(RATE * 60)]
    runs: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, serve_in_subprocess("cpoms_server", *args) as server:
        workdir = Path(tmp)
        print(f"fake CPOMS: {RATE:g} requests/s per token; {SCHOOL_COUNT} schools, {REPORTS} reports, "
              f"{REQUESTS_PER_TOKEN} requests per token: rate floor {RATE_FLOOR:.2f} s; machine load "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times need the cores free)")
        filled = filled_outbox(workdir)
        for latency in LATENCIES_MS:
            runs[f"default {latency} ms"] = push_run(server, workdir, filled, f"default {latency} ms", latency)
        old = push_run(server, workdir, filled, f"{OLD_CONCURRENCY} in flight {LATENCIES_MS[1]} ms", LATENCIES_MS[1],
                       concurrency=OLD_CONCURRENCY)
        own = pusher_cpu(workdir, filled)
        bare = bare_httpx_cpu(server)
        latencies = concern_latency(server, workdir)
    manual = manual_sink_runs()
    fast = runs[f"default {LATENCIES_MS[0]} ms"]
    print(f"push_process_cpu_per_record: {fast['cpu'] / REPORTS * 1000:.2f} ms over HTTP = "
          f"{fast['cpu'] / REPORTS / bare:.1f}x a bare httpx request ({bare * 1000:.2f} ms, this run); "
          f"the fake used {fast['fake_cpu'] / fast['wall']:.0%} of a core")
    for latency in LATENCIES_MS:
        print(f"push_vs_rate_floor_{latency}ms: {runs[f'default {latency} ms']['wall'] / RATE_FLOOR:.2f}x "
              "(target <= 1.3x; the CLI's default concurrency"
              + (f"; {OLD_CONCURRENCY} in flight: {old['wall'] / RATE_FLOOR:.2f}x)" if latency == LATENCIES_MS[1] else ")"))
    print(f"push_429_responses: {sum(int(r['rate_limited']) for r in (*runs.values(), old))} (target 0)")
    print(f"pusher_cpu_per_record: {own * 1000:.2f} ms (target <= 1 ms; claims, results, scheduling; sink answers at once)")
    print(f"concern_latency_max: {max(latencies):.2f} s (median {statistics.median(latencies):.2f} s; "
          f"target <= 1 s; polls every {CONCERN_POLL_SECONDS:g} s)")
    print_manual(manual)


if __name__ == "__main__":
    main()
