"""Benchmark ``hvc sync`` against the fake Wonde on loopback (issue 5, item 8; issue 14, item 10).

Run: ``.venv/bin/python bench/sync.py`` (``--quick`` for a smaller run while developing).

The fake runs in its own process with 20 ms latency per request and enforces
the same request rate the client is configured with (the settings' default),
so a client that overran it would be answered 429 — the count is printed.

(a) ``hvc sync`` over 5 schools × 2,000 pupils against a competent sequential
    client: one request at a time, every include in the same request, 200 to a
    page, each school's permissions, students, deletions, attendance codes and
    session marks read in turn (the resources the sync reads), every record
    decoded and validated, under the same rate limit. It writes nothing, which
    favours it. Both wait on the rate limit, so the sync cannot be much faster:
    the figure shows what overlapping pages and schools buys.
(b) the sync's wall time against the floor set by the rate limit and the
    latency for the requests it made.
(c) the requests an incremental sync with no changes makes, per resource and school.
(d) the sync's own CPU per pupil against the floor for any client that must
    validate what it receives: decoding (``json``) the very students and
    register pages the sequential client received and validating every part of
    each pupil the sync reads with the project's own payload models — the
    student (``Student``), each include the sync asks for with the model the
    adapter reads it with (:data:`INCLUDE_MODELS`), and each session mark
    (``SessionMarkPayload``) — measured in the same run. Nothing is normalised,
    neutralised, spooled or stored: that is the sync's own work, which the
    ratio weighs. The same floor with the client's own, faster decoder is shown
    too. The sync is timed after a one-school warm-up in the same process, so
    imports and first-use model building are not counted per pupil. Shown
    beside it, with no target: the sequential client's own CPU per pupil
    against the same floor (receiving the pages over HTTP is not in the
    floor), and the sync's against the sequential client's.
(e) peak memory (``ru_maxrss`` of an ``hvc sync`` process) at 50,000 pupils against 5,000.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from hv_connector.builtin.wonde_adapter import london_today
from hv_connector.cli import main
from hv_connector.clients.wonde.attendance import ATTENDANCE_CODES, DAY_FILTERS, SESSION_MARKS, SessionMarkPayload
from hv_connector.clients.wonde.client import CURSOR_PAGING, STUDENT_INCLUDES, WondeClient, decode_json
from hv_connector.clients.wonde.payloads import (
    AttendanceSummary,
    Contact,
    ContactDetails,
    DateRange,
    Deletion,
    EducationDetails,
    MedicalCondition,
    MedicalNote,
    SenNeed,
    Student,
    unwrap,
)
from hv_connector.config.settings import WondeSettings
from hv_connector.sync.attendance import mark_days
from hvc_fixtures import config as toml_config
from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.serve import RunningServer, serve_in_subprocess

LATENCY_MS = 20
STUDENTS = "students"

INCLUDE_MODELS: dict[str, TypeAdapter[Any]] = {
    "contact_details": TypeAdapter(ContactDetails),
    "education_details": TypeAdapter(EducationDetails),
    "extended_details": TypeAdapter(dict[str, Any]),
    "attendance_summary": TypeAdapter(AttendanceSummary),
    "contacts": TypeAdapter(list[Contact]),
    "medical_conditions": TypeAdapter(list[MedicalCondition]),
    "medical_notes": TypeAdapter(list[MedicalNote]),
    "sen_needs": TypeAdapter(list[SenNeed]),
    "child_protection_plan_date_ranges": TypeAdapter(list[DateRange]),
    "in_care_date_ranges": TypeAdapter(list[DateRange]),
}
"""Each include the sync asks for → the payload model the Wonde adapter reads it with (nested includes such as
``contacts.contact_details`` are validated inside their parent's model)."""


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


class Recording(httpx.AsyncBaseTransport):
    """The ordinary transport, keeping the body of every students and session-marks page it receives."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bodies: list[tuple[str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        resource = next((r for r in (STUDENTS, SESSION_MARKS) if request.url.path.endswith(f"/{r}")), None)
        if resource is not None and response.status_code == 200:
            self.bodies.append((resource, body))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def sequential_sync(server: RunningServer, rate: float, transport: Recording) -> tuple[int, int]:
    """The competent sequential client over every school: (requests made, students validated)."""
    students = 0
    days = mark_days(london_today(), None)
    register = {DAY_FILTERS[0]: days.first.isoformat(), DAY_FILTERS[1]: days.last.isoformat(), **CURSOR_PAGING}
    async with WondeClient(server.banner["tokens"][0], base_url=server.api, requests_per_second=rate,
                           concurrency=1, per_page=200, transport=transport) as client:
        for school in SCHOOLS:
            await client.permissions(school.wonde_id)  # the scopes the school granted, as the sync asks
            for kind, params in ((STUDENTS, {"include": ",".join(STUDENT_INCLUDES)}), ("deletions", {}),
                                 (ATTENDANCE_CODES, {}), (SESSION_MARKS, register)):
                url: str | None = f"schools/{school.wonde_id}/{kind}"
                query: dict[str, Any] | None = {"per_page": 200, **params}
                while url:
                    body = await client.get(url, query, school=school.wonde_id)
                    for record in body["data"]:
                        VALIDATE.get(kind, Deletion.model_validate)(record)
                        students += kind == STUDENTS
                    link = (body.get("meta") or {}).get("pagination") or {}
                    url, query = (link["next"] if link.get("more") else None), None
        return client.requests, students


def validate_pupil(raw: Any) -> None:
    """Validate a raw student and every include the sync reads, each with its payload model (the floor)."""
    Student.model_validate(raw)
    for name, model in INCLUDE_MODELS.items():
        value = unwrap(raw.get(name))
        if value is not None:
            model.validate_python(value)


VALIDATE: dict[str, Callable[[Any], Any]] = {STUDENTS: validate_pupil,
                                             SESSION_MARKS: SessionMarkPayload.model_validate}
"""The validation of each resource whose pages the floor is measured on."""


def decode_and_validate_cpu(bodies: list[tuple[str, bytes]], decode: Callable[[bytes], Any]) -> dict[str, float]:
    """CPU seconds, by resource, to decode the pages with ``decode`` and validate every record in them."""
    spent = dict.fromkeys(VALIDATE, 0.0)
    for kind, body in bodies:
        validate = VALIDATE[kind]
        started = time.process_time()
        for record in decode(body)["data"]:
            validate(record)
        spent[kind] += time.process_time() - started
    return spent


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
        warm(server)
        # One school into a scratch store first: the imports, plugins and model schemas an `hvc sync` process
        # pays for once are not a cost per pupil.
        (Path(folder) / "warm-up").mkdir()
        hvc_sync(write_config(Path(folder) / "warm-up", server, rate), "--school", SCHOOLS[0].slug)
        server.control.reset_stats()
        config = write_config(Path(folder), server, rate)
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
        recording = Recording()
        started, sequential_cpu = time.perf_counter(), _cpu_seconds()
        sequential_requests, validated = asyncio.run(sequential_sync(server, rate, recording))
        sequential, sequential_cpu = time.perf_counter() - started, _cpu_seconds() - sequential_cpu
        print(f"sequential client: {sequential:.2f}s, {sequential_requests} requests, one at a time "
              f"({server.control.stats()['rate_limited']} rate-limited by the fake), "
              f"{1000 * sequential_cpu / validated:.3f} ms of CPU a pupil (receiving, decoding and validating; "
              "it stores nothing)")
        floors = [decode_and_validate_cpu(recording.bodies, json.loads) for _ in range(3)]
        baseline_cpu = min(sum(f.values()) for f in floors)
        pages = {r: sum(1 for kind, _ in recording.bodies if kind == r) for r in VALIDATE}
        by_resource = ", ".join(f"{min(f[r] for f in floors) * 1000 / validated:.3f} ms on {pages[r]} {r} pages"
                                for r in VALIDATE)
        own_cpu = min(sum(decode_and_validate_cpu(recording.bodies, decode_json).values()) for _ in range(3))
        print(f"decoding (json) and validating each pupil's student, includes and session marks: "
              f"{1000 * baseline_cpu / validated:.3f} ms of CPU a pupil ({by_resource}; "
              f"{1000 * own_cpu / validated:.3f} ms with the client's own decoder); "
              f"hvc sync: {1000 * cpu / stored:.3f} ms a pupil")
        print(f"  the sequential client's CPU a pupil is {sequential_cpu / baseline_cpu:.2f}x that floor (what receiving "
              "the pages over HTTP adds, for a client that stores nothing); the sync's is "
              f"{(cpu / stored) / (sequential_cpu / validated):.2f}x the sequential client's (what normalising, "
              "neutralising, spooling, storing and the proposals' refresh add)")

    if memory_sizes is not None:
        small, large = memory_sizes
        small_kib, small_s = peak_memory_kib(small)
        large_kib, large_s = peak_memory_kib(large)
        print(f"peak memory: {5 * small:,} pupils {small_kib / 1024:.0f} MiB ({small_s:.0f}s), "
              f"{5 * large:,} pupils {large_kib / 1024:.0f} MiB ({large_s:.0f}s)")

    print(f"sync vs the sequential client: {sequential / seconds:.2f}x faster (wall time; both wait on the rate limit)")
    print(f"sync vs rate-limit and latency floor: {seconds / floor:.2f}x (target <= 1.1x)")
    print(f"incremental requests per resource per school, no changes: {worst:g} (target 1)")
    print(f"sync CPU per pupil vs decoding (json) and validating every part of each pupil it reads: "
          f"{(cpu / stored) / (baseline_cpu / validated):.2f}x (target <= 2x; "
          f"{(cpu / stored) / (own_cpu / validated):.2f}x against the client's own decoder)")
    if memory_sizes is not None:
        print(f"peak memory {5 * large:,} vs {5 * small:,} pupils: {large_kib / small_kib:.2f}x (target <= 1.3x)")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pupils a school; memory at 1,000 vs 2,000")
    parser.add_argument("--no-memory", action="store_true", help="skip (d), the two long memory runs")
    options = parser.parse_args()
    run(200 if options.quick else 2_000,
        None if options.no_memory else (1_000, 2_000) if options.quick else (1_000, 10_000))
