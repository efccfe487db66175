"""Benchmark visits proposed from attendance (issue 16, item 6).

Run: ``.venv/bin/python bench/proposals.py`` (``--pupils 1000`` a school while developing).

(a) Every trigger of every school evaluated for 5 schools × 10,000 pupils after a sync (their marks for the
    school year so far, as the fake Wonde's register generates them, written straight into an SQLite store):
    the proposals' evaluation (read the marks, every measure, every trigger) against reading those pupils'
    attendance figures from the store (:func:`~hv_connector.read.attendance.school_figures`), both timed in this
    process, interleaved, median of the rounds. The whole refresh, writes included, is printed beside them.
(b) The Proposed screen's first paint with 5,000 open proposals against 50: each a fresh process (start-up
    included) that opens the dashboard headless on the screen and exits once the table is painted; median of 5,
    interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hv_connector.attendance.codes import meaning_of
from hv_connector.builtin.core_rules import CORE_TRIGGERS
from hv_connector.clock import LONDON
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.proposals.refresh import Refreshed, evaluate, refresh_school
from hv_connector.read.attendance import school_figures, school_marks
from hv_connector.store import Store
from hv_connector.store.schema import proposals, pupil_session_marks, pupils
from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.wonde_attendance import mark_code, school_days

AS_OF = date(2026, 11, 20)
NOW = datetime.combine(AS_OF, clock_time(18, 0), LONDON)
EVALUATE_TARGET = 2.0
PAINT_TARGET = 1.5
CHUNK = 50_000


def build_register(path: Path, per_school: int) -> int:
    """Every pupil's AM and PM marks on every school day from 1 September to :data:`AS_OF`; returns the marks."""
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    days = [(n, day) for n, day in enumerate(school_days()) if date(2026, 9, 1) <= day <= AS_OF]
    meanings: dict[str, str] = {}
    written = 0
    with store.begin() as conn:
        for sch in SCHOOLS:
            conn.execute(insert(pupils), [{"school_id": sch.slug, "mis_id": f"P{n:06d}", "forename": "Pupil",
                                           "surname": f"{n:06d}", "display_name": f"Pupil {n:06d}"}
                                          for n in range(per_school)])
            rows: list[dict[str, Any]] = []
            for index in range(per_school):
                for n, day in days:
                    for session, name in ((0, "AM"), (1, "PM")):
                        code = mark_code(1, sch, index, n, session)
                        meaning = meanings.get(code) or meanings.setdefault(code, meaning_of(code).value)
                        rows.append({"school_id": sch.slug, "pupil_mis_id": f"P{index:06d}", "day": day,
                                     "session": name, "code": code, "meaning": meaning})
                if len(rows) >= CHUNK:
                    conn.execute(insert(pupil_session_marks), rows)
                    written, rows = written + len(rows), []
            conn.execute(insert(pupil_session_marks), rows)
            written += len(rows)
    store.close()
    return written


def evaluation(path: Path, policies: Policies, rounds: int) -> tuple[float, float, float, int]:
    """(median seconds reading every pupil's figures, median evaluating every trigger, one full refresh, met)."""
    store = Store.open(f"sqlite:///{path}")
    triggers = {sch.slug: policies.triggers(sch.slug) for sch in SCHOOLS}
    reading, evaluating = [], []
    met = 0
    with store.connect() as conn:
        for _ in range(rounds):
            started = time.perf_counter()
            for sch in SCHOOLS:
                school_figures(conn, sch.slug, AS_OF)
            reading.append(time.perf_counter() - started)
            started = time.perf_counter()
            met = sum(len(evaluate(school_marks(conn, sch.slug, AS_OF), triggers[sch.slug], AS_OF, {}, set(),
                                   Refreshed(sch.slug))) for sch in SCHOOLS)
            evaluating.append(time.perf_counter() - started)
    started = time.perf_counter()
    for sch in SCHOOLS:
        with store.begin() as conn:
            refresh_school(conn, sch.slug, triggers[sch.slug], now=NOW, recent_visit_days=14)
    refreshing = time.perf_counter() - started
    store.close()
    return statistics.median(reading), statistics.median(evaluating), refreshing, met


# --- (b) the screen's first paint -------------------------------------------------------------------------


def build_worklist(folder: Path, count: int) -> Path:
    """A store with ``count`` open proposals at Potton, and a settings file naming it and its DSL; the file."""
    store = Store.open(f"sqlite:///{folder / 'hvc.db'}", upgrade=True)
    trigger = CORE_TRIGGERS[-1].model_dump(mode="json")
    weeks = [96.0, 90.0, 100.0, 80.0, 88.0, None, 92.0, 70.0, 100.0, 84.0]
    with store.begin() as conn:
        conn.execute(insert(pupils), [{"school_id": "potton", "mis_id": f"P{n:06d}", "display_name": f"Pupil {n:06d}"}
                                      for n in range(count)])
        conn.execute(insert(proposals), [{
            "id": f"p-{n:010d}", "school_id": "potton", "pupil_mis_id": f"P{n:06d}", "trigger_id": trigger["id"],
            "trigger": trigger, "figures": {"measures": {"absence-year": 10 + n % 30}, "weeks": weeks},
            "urgency": 2, "first_met_at": NOW - timedelta(minutes=n), "last_met_at": NOW, "status": "open"}
            for n in range(count)])
    store.close()
    config = folder / "hvc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{folder / "hvc.db"}"\n\n[schools.potton]\nname = "Potton"\n'
                      'policy = "potton"\n\n[[staff.potton]]\nid = "pt-dsl"\nname = "Dee Lead"\nroles = ["dsl"]\n',
                      encoding="utf-8")
    config.chmod(0o600)
    return config


def paint_once(config: Path, count: int) -> float:
    """Seconds from starting a process to the Proposed screen painted with ``count`` rows, and the process gone."""
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--paint", str(config), "--expect", str(count)], check=True)
    return time.perf_counter() - started


async def paint(config: Path, expect: int) -> None:
    """(In the child.) Open the dashboard headless on the Proposed screen; return once its rows are painted."""
    from hv_connector.runtime import Runtime
    from hv_connector.visits.service import VisitService
    from hv_connector.watch.escalations import Escalations
    from hv_connector.watch.tick import Watch
    from hvc_tui.app import HvcApp
    from hvc_tui.messages import ProposalsLoaded
    from hvc_tui.session import Session

    rt = Runtime(config_path=config)
    loaded: list[ProposalsLoaded] = []
    session = Session(VisitService.from_runtime(rt), Escalations(Watch.from_runtime(rt)), "pt-dsl")
    app = HvcApp(session, board_seconds=3600, mode="proposed")
    async with app.run_test(size=(120, 40), message_hook=lambda m: isinstance(m, ProposalsLoaded) and loaded.append(m)) \
            as pilot:
        while not loaded:
            await pilot.pause(0.001)
        await pilot.pause()  # the repaint after the table is filled
        shown = len(loaded[0].proposals.rows)
    if shown != expect:
        sys.exit(f"painted {shown} proposals, expected {expect}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=10_000, help="pupils a school (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a), median taken")
    parser.add_argument("--open", type=int, default=5_000, help="open proposals for (b)")
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--paints", type=int, default=5)
    parser.add_argument("--only", choices=("evaluation", "paint"), help="run one of the two")
    parser.add_argument("--paint", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.paint:
        asyncio.run(paint(args.paint, args.expect))
        return
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "paint":
            targets.append(evaluation_ratio(Path(tmp), args))
        if args.only != "evaluation":
            targets.append(paint_ratio(Path(tmp), args))
    for line in targets:
        print(line)


def evaluation_ratio(folder: Path, args: argparse.Namespace) -> str:
    """(a), its figures printed; its target line."""
    built = time.perf_counter()
    marks = build_register(folder / "register.db", args.pupils)
    print(f"register: 5 schools × {args.pupils:,} pupils, {marks:,} session marks to {AS_OF:%d %b %Y}, "
          f"built in {time.perf_counter() - built:.0f}s")
    reading, evaluating, refreshing, met = evaluation(folder / "register.db", Policies(build_plugin_manager()),
                                                      args.rounds)
    print(f"reading every pupil's figures: {reading:.2f}s; evaluating every trigger: {evaluating:.2f}s "
          f"({met:,} met); the first refresh, proposals written: {refreshing:.2f}s")
    return f"trigger evaluation vs reading the figures: {evaluating / reading:.2f}x (target <= {EVALUATE_TARGET:g}x)"


def paint_ratio(folder: Path, args: argparse.Namespace) -> str:
    """(b), its figures printed; its target line."""
    (folder / "big").mkdir()
    (folder / "small").mkdir()
    big, small = build_worklist(folder / "big", args.open), build_worklist(folder / "small", args.baseline)
    times: dict[str, list[float]] = {"big": [], "small": []}
    paint_once(small, args.baseline)  # warm the caches both share
    for _ in range(args.paints):  # interleaved, so the machine's load hits both alike
        times["small"].append(paint_once(small, args.baseline))
        times["big"].append(paint_once(big, args.open))
    painted = {name: statistics.median(values) for name, values in times.items()}
    print(f"first paint (process start to painted table, median of {args.paints}): "
          f"{painted['big'] * 1000:.0f} ms with {args.open:,} open, {painted['small'] * 1000:.0f} ms with "
          f"{args.baseline}")
    return (f"proposals first paint {args.open:,} vs {args.baseline}: {painted['big'] / painted['small']:.2f}x "
            f"(target <= {PAINT_TARGET:g}x)")

if __name__ == "__main__":
    main()
