"""Benchmark attendance from the register (issue 14, the session-marks bullet of item 10).

Run: ``.venv/bin/python bench/attendance.py`` (``--quick`` for 200 pupils a school while developing).

The fake Wonde runs in its own process and enforces the request rate the client is configured with;
every pupil has an AM and a PM mark on every school day. The sync's clock is set to the last day of
the school year (21 July 2027), so a first sync reads the whole year, about 190 school days.

(a) ``hvc sync`` of 5 schools × 2,000 pupils (the pupils, then their session marks for the school
    year: ~3.8 million marks, ~19,000 pages) against the floor the rate limit sets for the requests
    it made.
(b) attendance figures for every one of the 10,000 pupils, computed from the marks read out of the
    store, against the time reading those marks takes (both timed in this process, same run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from hv_connector.attendance.figures import attendance_figures
from hv_connector.cli import main
from hv_connector.clock import CLOCK_START_VARIABLE
from hv_connector.read.attendance import school_marks
from hv_connector.store import Store
from hvc_fixtures import config as toml_config
from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.serve import serve_in_subprocess

YEAR_ENDS = date(2027, 7, 21)
RATE = 20.0
"""Requests a second, client and fake alike: four times the client's default (5/s), at which a school year's
first sync takes over an hour; ``--rate`` to change it. The CPU per request printed says how far above this
rate the sync would still keep to the floor."""


def sync(folder: Path, pupils: int, rate: float) -> tuple[float, float, int, int, int]:
    """Run ``hvc sync --json``: (seconds, CPU seconds, requests, requests rate-limited by the fake, marks stored)."""
    with serve_in_subprocess("wonde_server", "--seed", "1", "--pupils", str(pupils)) as server:
        server.control.configure(rate_limit={"requests": rate, "per_seconds": 1}, marks_until=YEAR_ENDS.isoformat(),
                                 marks_days=None)
        config = toml_config.write_config(folder / "hvc.toml", toml_config.schools_config(
            database=folder / "hvc.db", wonde=server, wonde_options={"requests_per_second": rate}))
        os.environ[CLOCK_START_VARIABLE] = f"{YEAR_ENDS.isoformat()}T18:00"
        out = io.StringIO()
        started, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["--config", str(config), "sync", "--json"])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if code != 0:
            raise SystemExit(f"hvc sync exited {code}: {out.getvalue()}")
        summary = json.loads(out.getvalue())
        stats = server.control.stats()
    store = Store.open(f"sqlite:///{folder}/hvc.db")
    with store.connect() as conn:
        marks = conn.exec_driver_sql("select count(*) from pupil_session_marks").scalar_one()
    return seconds, cpu, sum(row["requests"] for row in summary), stats["rate_limited"], marks


def figures(folder: Path) -> tuple[int, float, float]:
    """(pupils, seconds reading their marks, seconds computing their figures from what was read)."""
    store = Store.open(f"sqlite:///{folder}/hvc.db")
    with store.connect() as conn:
        started = time.perf_counter()
        read = [pupil for sch in SCHOOLS for pupil in school_marks(conn, sch.slug, YEAR_ENDS)]
        reading = time.perf_counter() - started
    started = time.perf_counter()
    for _, marks in read:
        attendance_figures(marks, YEAR_ENDS)
    return len(read), reading, time.perf_counter() - started


def run(pupils: int, rate: float) -> None:
    print(f"fake Wonde: 5 schools × {pupils:,} pupils, marks on every school day to {YEAR_ENDS:%d %B %Y}, "
          f"rate limit {rate:g}/s (client and fake)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        seconds, cpu, requests, limited, marks = sync(folder, pupils, rate)
        floor = (requests - 1) / rate
        print(f"hvc sync: {seconds:.1f}s, {requests:,} requests, {marks:,} session marks stored, "
              f"{limited} rate-limited by the fake (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print(f"sync CPU: {cpu:.1f}s, {1000 * cpu / requests:.1f} ms a request (the floor holds while that is under "
              f"1/rate: up to ~{requests / cpu:.0f} requests/s)")
        print(f"floor: {floor:.1f}s = {requests - 1:,} intervals at {rate:g}/s")
        counted, reading, computing = figures(folder)
        print(f"figures: {counted:,} pupils; reading their marks {reading:.2f}s, computing the figures {computing:.2f}s")
    print(f"session-marks sync vs rate-limit floor: {seconds / floor:.2f}x (target <= 1.3x)")
    print(f"attendance figures vs reading the marks: {computing / reading:.2f}x (target <= 2x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pupils a school")
    parser.add_argument("--rate", type=float, default=RATE, help=f"requests a second (default {RATE:g})")
    options = parser.parse_args()
    run(200 if options.quick else 2_000, options.rate)
