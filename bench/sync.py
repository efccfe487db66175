"""Benchmark ``hvc sync`` against the fake Wonde on loopback (issue 5, item 8).

Run: ``.venv/bin/python bench/sync.py`` (``--quick`` for a smaller run while developing).

The fake runs in its own process with 20 ms latency per request and enforces
the same request rate the client is configured with (the settings' default),
so a client that overran it would be answered 429 — the count is printed.

(a) ``hvc sync`` over 5 schools × 2,000 pupils against a naive baseline:
    sequential, one page at a time, no includes (students, contacts, medical
    conditions and notes, attendance summaries and deletions walked as
    separate lists at Wonde's default page size), under the same rate limit.
    The naive client is timed on one school and multiplied by five (it is
    strictly sequential, so schools add up), and it only parses what it
    fetches — it writes nothing — which favours it.
(b) the sync's wall time against the floor set by the rate limit and the
    latency for the requests it made.
(c) the requests an incremental sync with no changes makes, per resource and school.
(d) peak memory (``ru_maxrss`` of an ``hvc sync`` process) at 50,000 pupils against 5,000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hv_connector.cli import main
from hv_connector.clients.wonde.client import STUDENT_INCLUDES, WondeClient
from hv_connector.clients.wonde.payloads import (
    AttendanceSummary,
    Contact,
    Deletion,
    MedicalCondition,
    MedicalNote,
    Payload,
    Student,
)
from hv_connector.config.settings import WondeSettings
from hvc_fixtures import config as toml_config
from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.serve import RunningServer, serve_in_subprocess

LATENCY_MS = 20
NAIVE_PER_PAGE = 50
"""Wonde's default page size: what a client gets that does not ask for more."""
NAIVE_RESOURCES: dict[str, type[Payload]] = {
    "students": Student, "contacts": Contact, "medical-conditions": MedicalCondition,
    "medical-notes": MedicalNote, "attendance-summaries": AttendanceSummary, "deletions": Deletion,
}


@contextlib.contextmanager
def fake_wonde(pupils: int, latency_ms: float, rate: float | None) -> Iterator[RunningServer]:
    with serve_in_subprocess("wonde_server", "--seed", "1", "--pupils", str(pupils),
                             "--latency-ms", str(latency_ms)) as server:
        if rate is not None:
            server.control.configure(rate_limit={"requests": rate, "per_seconds": 1})
        yield server


def warm(server: RunningServer) -> None:
    """Render the records both clients ask for before timing: the fake's own first-touch rendering is not
    Wonde's latency, and on a shared machine it would steal the CPU the clients are measured on."""
    server.control.post("warm", {"include": ",".join(STUDENT_INCLUDES), "resources": ["students"]})
    server.control.post("warm", {"include": "", "resources": list(NAIVE_RESOURCES)})


def write_config(folder: Path, server: RunningServer, rate: float) -> Path:
    return toml_config.write_config(folder / "hvc.toml", toml_config.schools_config(
        database=folder / "hvc.db", wonde=server, wonde_options={"requests_per_second": rate}))


def hvc_sync(config: Path, *args: str) -> tuple[float, float, list[dict[str, Any]]]:
    """Run ``hvc sync --json`` in this process: (wall seconds, CPU seconds, per-school summaries)."""
    out = io.StringIO()
    started, cpu = time.perf_counter(), _cpu_seconds()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--config", str(config), "sync", "--json", *args])
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    if code != 0:
        raise SystemExit(f"hvc sync exited {code}: {out.getvalue()}")
    return seconds, cpu, json.loads(out.getvalue())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def naive_sync(server: RunningServer, wonde_id: str, rate: float) -> int:
    """The baseline: each list walked one page at a time, no includes; returns requests made."""
    async with WondeClient(server.banner["tokens"][0], base_url=server.api, requests_per_second=rate,
                           concurrency=1, per_page=NAIVE_PER_PAGE) as client:
        for resource, model in NAIVE_RESOURCES.items():
            url: str | None = f"schools/{wonde_id}/{resource}"
            params: dict[str, Any] | None = {"per_page": NAIVE_PER_PAGE}
            while url:
                body = await client.get(url, params, school=wonde_id)
                for record in body["data"]:
                    model.model_validate(record)
                link = body.get("meta", {}).get("pagination", {})  # no meta when all fits on one page
                url, params = (link["next"] if link.get("more") else None), None
        return client.requests


def peak_memory_kib(pupils: int) -> tuple[int, float]:
    """ru_maxrss (KiB) and seconds of an ``hvc sync`` process over 5 schools of ``pupils`` each."""
    with tempfile.TemporaryDirectory() as folder, fake_wonde(pupils, 0, None) as server:
        config = write_config(Path(folder), server, rate=10_000)
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "hv_connector", "--config", str(config), "sync"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"hvc sync at {pupils} pupils a school failed")
        return usage.ru_maxrss, time.perf_counter() - started


def run(pupils: int, memory_sizes: tuple[int, int] | None) -> None:
    rate = WondeSettings().requests_per_second
    latency = LATENCY_MS / 1000
    print(f"fake Wonde: 5 schools × {pupils:,} pupils, {LATENCY_MS} ms latency, rate limit {rate:g}/s "
          "(the client's default, enforced by the fake)")
    with tempfile.TemporaryDirectory() as folder, fake_wonde(pupils, LATENCY_MS, rate) as server:
        config = write_config(Path(folder), server, rate)
        warm(server)
        seconds, cpu, summary = hvc_sync(config)
        stats = server.control.stats()
        requests = sum(row["requests"] for row in summary)
        per_school = max(row["requests"] for row in summary)
        stored = sum(row["added"] for row in summary)
        floor = max((requests - 1) / rate, per_school * latency) + latency
        print(f"hvc sync: {seconds:.2f}s ({cpu:.1f}s of CPU; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} CPUs), {requests} requests ({per_school} for the largest school), "
              f"{stored:,} pupils stored, {stats['rate_limited']} rate-limited by the fake")
        print(f"floor: {floor:.2f}s = max({requests - 1} intervals at {rate:g}/s, {per_school} × {LATENCY_MS} ms)"
              f" + one latency")

        server.control.reset_stats()
        _, _, again = hvc_sync(config)
        incremental = server.control.stats()
        by_school = incremental["by_school"]
        resources = len(incremental["by_resource"])
        worst = max(by_school.values()) / resources
        print(f"incremental sync, no changes: {incremental['requests']} requests "
              f"({', '.join(f'{k}: {v}' for k, v in sorted(incremental['by_resource'].items()))}), "
              f"{sum(r['added'] + r['updated'] for r in again)} pupils changed")

        server.control.reset_stats()
        started = time.perf_counter()
        naive_requests = asyncio.run(naive_sync(server, SCHOOLS[0].wonde_id, rate))
        naive_one = time.perf_counter() - started
        naive = naive_one * len(SCHOOLS)
        print(f"naive baseline: {naive_one:.2f}s and {naive_requests} requests for one school; "
              f"× {len(SCHOOLS)} schools (sequential) = {naive:.1f}s")

    if memory_sizes is not None:
        small, large = memory_sizes
        small_kib, small_s = peak_memory_kib(small)
        large_kib, large_s = peak_memory_kib(large)
        print(f"peak memory: {5 * small:,} pupils {small_kib / 1024:.0f} MiB ({small_s:.0f}s), "
              f"{5 * large:,} pupils {large_kib / 1024:.0f} MiB ({large_s:.0f}s)")

    print(f"sync vs naive baseline: {naive / seconds:.1f}x faster (target >= 5x)")
    print(f"sync vs rate-limit and latency floor: {seconds / floor:.2f}x (target <= 1.3x)")
    print(f"incremental requests per resource per school, no changes: {worst:g} (target 1)")
    if memory_sizes is not None:
        print(f"peak memory {5 * large:,} vs {5 * small:,} pupils: {large_kib / small_kib:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pupils a school; memory at 1,000 vs 2,000")
    parser.add_argument("--no-memory", action="store_true", help="skip (d), the two long memory runs")
    options = parser.parse_args()
    run(200 if options.quick else 2_000,
        None if options.no_memory else (1_000, 2_000) if options.quick else (1_000, 10_000))
