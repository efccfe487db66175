"""Benchmark: the dashboard on a trust's worth of history — 50,000 visits over five schools.

Builds two SQLite stores: one with 50,000 visits in a trust's mix of states (mostly
finished, one in twenty waiting for a decision), one with 50 visits all waiting, so
both fill the pending table's first page: the same rows on screen. For each it
measures, interleaved, the median of ``--rounds`` runs (the machines are shared and
noisy, so only the ratios are compared to the targets):

- time to first full paint: from starting a new ``python`` process to the pending table filled and painted;
- keystroke to updated table: from a key typed in the filter to the table repainted with the matches;
- the pending filter's query alone (:func:`hv_connector.read.queries.pending`), typed text and none;
- the live board's refresh with 500 visits out (:meth:`~hv_connector.watch.escalations.Escalations.board`, as
  the open dashboard repeats it every few seconds: the first, cold, refresh is one of ten) vs reading those
  500 rows' columns that it reads from the same store.

    .venv/bin/python bench/dashboard.py [--visits N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# dashkit and the tests package it reads; watchkit's visits out, as the watch's tests and bench write them
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "tui"), str(ROOT / "tests" / "integration" / "watch")]

from dashkit import BOARD_NOW  # noqa: E402
from dashkit import directory as potton_directory  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from textual.message import Message  # noqa: E402
from watchkit import START, add_visits, make_watch, visit_document  # noqa: E402

from hv_connector.clock import LONDON, FixedClock  # noqa: E402
from hv_connector.models import StaffMember  # noqa: E402
from hv_connector.plugins import Policies, build_plugin_manager  # noqa: E402
from hv_connector.read import queries  # noqa: E402
from hv_connector.store import Store  # noqa: E402
from hv_connector.store.schema import pupils, visit_events, visits  # noqa: E402
from hv_connector.testing import base_visit, staff  # noqa: E402
from hv_connector.visits.directory import Directory  # noqa: E402
from hv_connector.visits.lifecycle import OUT  # noqa: E402
from hv_connector.visits.service import VisitService  # noqa: E402
from hv_connector.watch.escalations import Escalations  # noqa: E402
from hv_connector.watch.tick import Watch  # noqa: E402
from hvc_tui.app import HvcApp  # noqa: E402
from hvc_tui.messages import PendingLoaded  # noqa: E402
from hvc_tui.session import Session  # noqa: E402

SCHOOLS = ("birchwood", "hexthorpe", "potton", "st-edwards", "washwood-heath")
STATES = (("closed", 60), ("reported", 15), ("cancelled", 8), ("declined", 4), ("requested", 5),
          ("authorised", 4), ("returned", 2), ("signed-out", 1), ("aborted", 1))
"""The mix of states: a trust's history is mostly finished visits."""
PUPILS_PER_SCHOOL = 2000
FORENAMES = ("Amira", "Zoë", "Noa", "Kit", "Sam", "Ola", "Ben", "Ngozi", "Siân", "Łucja", "Ravi", "Mia")
SURNAMES = ("Example", "D'Arcy", "Sample", "Fictional", "Testington", "Demo", "Mock", "Placeholder")
TARGET_PAINT, TARGET_KEYSTROKE, TARGET_QUERY, TARGET_BOARD = 1.5, 2.0, 2.0, 2.0
BOARD_OUT = 500
"""Visits out for the board's refresh."""
FILTER_KEYS = "ng"
"""Typed one at a time into the filter; each narrows the list (n: many pupils; ng: the Ngozis)."""
QUERY_REPEATS = 50
"""Pending queries timed per round; the round's figure is their median."""
PAINTED = "painted"
"""What the first-paint child process prints once the pending table is painted."""


def build_store(path: Path, count: int, seed: int = 11, *, all_waiting: bool = False) -> None:
    """A store with ``count`` visits over the five schools, each with its request event and findings
    (``all_waiting``: every one waiting for a decision, so a small store fills the first page too)."""
    rng = random.Random(seed)
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    weights = [w for _, w in STATES]
    names = [s for s, _ in STATES]
    findings = [{"rule_id": "core.example-rule", "stage": "request", "severity": severity, "message": "A finding.",
                 "clause": "Policy §1", "fields": []} for severity in ("block", "warn", "info")]
    start = datetime(2021, 9, 6, 9, 0, tzinfo=LONDON)
    with store.begin() as conn:
        conn.execute(insert(pupils), [
            {"school_id": school, "mis_id": f"{school[:2]}{i:06d}", "forename": rng.choice(FORENAMES),
             "surname": rng.choice(SURNAMES), "display_name": f"{rng.choice(FORENAMES)} {rng.choice(SURNAMES)}",
             "address_text": f"{i} Example Road, {school.title()}, XX1 1XX", "year_group": str(rng.randint(1, 11))}
            for school in SCHOOLS for i in range(PUPILS_PER_SCHOOL)])
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for n in range(count):
            school = SCHOOLS[n % len(SCHOOLS)]
            pupil = f"{school[:2]}{rng.randrange(PUPILS_PER_SCHOOL):06d}"
            when = start + timedelta(minutes=int(n * (5 * 365 * 24 * 60) / max(count, 1)))
            state = "requested" if all_waiting else rng.choices(names, weights)[0]
            if state == "requested":
                when = BOARD_NOW + timedelta(hours=rng.randrange(1, 24 * 14))
            data = base_visit(school, reason="attendance", start=when, emergency=rng.random() < 0.02,
                              pupil={"name": "(from the MIS)", "mis_id": pupil})
            data["id"] = f"v-{n:010d}"
            rows.append({"id": data["id"], "school_id": school, "pupil_mis_id": pupil, "state": state,
                         "planned_start": when, "expected_return": when + timedelta(hours=1),
                         "address_text": data["address"], "reason": "attendance", "staff_ids": ["s1", "s2"],
                         "pupil_name": data["pupil"]["name"], "emergency": data["emergency"],
                         "data": data, "version": 1, "created_at": when, "updated_at": when})
            events.append({"visit_id": data["id"], "at": when, "actor": "s1", "event": "request",
                           "to_state": "requested", "stage": "request",
                           "findings": rng.sample(findings, rng.randrange(4))})
            if len(rows) == 5000:
                conn.execute(insert(visits), rows)
                conn.execute(insert(visit_events), events)
                rows, events = [], []
        if rows:
            conn.execute(insert(visits), rows)
            conn.execute(insert(visit_events), events)
    store.close()


def session_on(path: Path, policies: Policies) -> tuple[Store, Session]:
    store = Store.open(f"sqlite:///{path}")
    lead = StaffMember.model_validate(staff("trust-dsl", "Dee Trust-Lead", "dsl", "headteacher"))
    people = {school: {lead.id: lead} for school in SCHOOLS}
    people["potton"] = {**potton_directory().staff["potton"], lead.id: lead}
    clock = FixedClock(BOARD_NOW)
    service = VisitService(store=store, policies=policies, directory=Directory(people), clock=clock)
    watch = Watch(store=store, policies=policies, service=service, staff=people, notifiers=[], clock=clock)
    return store, Session(service, Escalations(watch), lead.id, SCHOOLS)


async def painted(path: Path, policies: Policies, *, then: Callable[[], None] = lambda: None) -> float:
    """Seconds from opening the store on ``path`` to the dashboard's pending table filled and painted (in this
    process); ``then`` runs at that moment, before the app closes."""
    started = time.perf_counter()
    store, session = session_on(path, policies)
    loaded: list[Message] = []
    app = HvcApp(session, board_seconds=3600)
    async with app.run_test(size=(120, 40), message_hook=lambda m: isinstance(m, PendingLoaded) and loaded.append(m)) \
            as pilot:
        while not loaded:
            await pilot.pause(0.001)
        await pilot.pause()  # the repaint after the table is filled
        seconds = time.perf_counter() - started
        then()
    store.close()
    return seconds


async def first_paint(path: Path) -> None:
    """In a process of its own: start the dashboard on ``path`` and say :data:`PAINTED` once the pending table is
    filled and painted."""
    await painted(path, Policies(build_plugin_manager()), then=lambda: print(PAINTED, flush=True))


def paint_seconds(path: Path) -> float:
    """Seconds from starting a new ``python`` process to its dashboard's first full paint."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--paint", str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == PAINTED:
            break
    painted = time.perf_counter() - started
    child.wait()
    if child.returncode:
        raise SystemExit(f"the first-paint process on {path} failed ({child.returncode})")
    return painted


async def keystroke_seconds(path: Path, policies: Policies) -> float:
    """Mean seconds from a filter keystroke to the repainted table."""
    store, session = session_on(path, policies)
    loaded: list[PendingLoaded] = []

    def hook(message: Message) -> None:
        if isinstance(message, PendingLoaded):
            loaded.append(message)

    app = HvcApp(session, board_seconds=3600)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        while not loaded:
            await pilot.pause(0.001)
        await pilot.pause()
        app.screen.query_one("#filter").focus()
        keystrokes = []
        for key in FILTER_KEYS:
            text = app.screen.query_one("#filter").value + key
            typed = time.perf_counter()
            await pilot.press(key)
            while not any(m.text == text for m in loaded):
                await pilot.pause(0.001)
            await pilot.pause()
            keystrokes.append(time.perf_counter() - typed)
    store.close()
    return statistics.mean(keystrokes)


def query_seconds(path: Path, policies: Policies) -> float:
    """Median seconds of the pending filter's query, with what the bench types and with nothing typed."""
    store, session = session_on(path, policies)
    times = []
    with store.connect() as conn:
        for n in range(QUERY_REPEATS):
            text = FILTER_KEYS[: n % (len(FILTER_KEYS) + 1)]
            started = time.perf_counter()
            page = queries.pending(conn, schools=session.schools, text=text)
            times.append(time.perf_counter() - started)
            assert page.rows or text, f"no pending rows in {path}"
    store.close()
    return statistics.median(times)


def board_seconds(path: Path) -> tuple[float, float]:
    """Median seconds of (a board refresh, reading the same rows' columns) with :data:`BOARD_OUT` visits out."""
    store = Store.open(f"sqlite:///{path}")
    escalations = Escalations(make_watch(store, FixedClock(START + timedelta(minutes=30)), notifiers=[]))
    columns = (visits.c.id, visits.c.school_id, visits.c.state, visits.c.version, visits.c.planned_start,
               visits.c.expected_return, visits.c.timetable, visits.c.timetable_shared, visits.c.address_text,
               visits.c.pupil_name)
    refresh, reading = [], []
    for _ in range(QUERY_REPEATS // 5):
        started = time.perf_counter()
        rows = escalations.board()
        refresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        with store.connect() as conn:
            read = conn.execute(select(*columns).where(visits.c.state.in_([s.value for s in OUT]))).all()
        reading.append(time.perf_counter() - started)
        assert len(rows) == len(read) == BOARD_OUT
    store.close()
    return statistics.median(refresh), statistics.median(reading)


def build_board_store(path: Path) -> None:
    """A store with :data:`BOARD_OUT` visits out, each with its timetable as sign-out writes it."""
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    add_visits(store, [visit_document(f"B{n:05d}", back=timedelta(hours=7)) for n in range(BOARD_OUT)])
    store.close()


def median_ratio(results: dict[str, list[float]]) -> tuple[float, float, float]:
    """(median big, median small, their ratio)."""
    big, small = statistics.median(results["big"]), statistics.median(results["small"])
    return big, small, big / small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--paint", type=Path, help=argparse.SUPPRESS)  # the first-paint child process
    args = parser.parse_args()
    if args.paint:
        asyncio.run(first_paint(args.paint))
        return
    policies = Policies(build_plugin_manager())
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.db", Path(tmp) / "small.db"
        built = time.perf_counter()
        build_store(big, args.visits)
        build_store(small, args.baseline, all_waiting=True)
        board = Path(tmp) / "board.db"
        build_board_store(board)
        print(f"built stores: {args.visits} and {args.baseline} visits in {time.perf_counter() - built:.1f}s")
        measures: dict[str, Callable[[Path], float]] = {
            "first paint": paint_seconds,
            "filter keystroke to table": lambda path: asyncio.run(keystroke_seconds(path, policies)),
            "pending query": lambda path: query_seconds(path, policies),
        }
        results: dict[str, dict[str, list[float]]] = {name: {"big": [], "small": []} for name in measures}
        boards: dict[str, list[float]] = {"big": [], "small": []}  # big: the refresh; small: reading its rows
        for _ in range(args.rounds):  # interleaved, so load on the machine hits both alike
            for name, measure in measures.items():
                for size, path in (("small", small), ("big", big)):
                    results[name][size].append(measure(path))
            refresh, reading = board_seconds(board)
            boards["big"].append(refresh)
            boards["small"].append(reading)
    figures = {name: median_ratio(runs) for name, runs in results.items()}
    for name, (on_big, on_small, _) in figures.items():
        print(f"{name}: {on_big * 1000:.1f} ms with {args.visits} visits, {on_small * 1000:.1f} ms with "
              f"{args.baseline} (median of {args.rounds})")
    on_board, on_reading, board_ratio = median_ratio(boards)
    print(f"board refresh: {on_board * 1000:.1f} ms with {BOARD_OUT} visits out, reading their rows "
          f"{on_reading * 1000:.1f} ms (median of {args.rounds})")
    print(f"first_paint_ratio: {figures['first paint'][2]:.2f} (target ≤ {TARGET_PAINT})")
    print(f"filter_keystroke_ratio: {figures['filter keystroke to table'][2]:.2f} (target ≤ {TARGET_KEYSTROKE})")
    print(f"pending_query_ratio: {figures['pending query'][2]:.2f} (target ≤ {TARGET_QUERY})")
    print(f"board_refresh_ratio: {board_ratio:.2f} (target ≤ {TARGET_BOARD})")


if __name__ == "__main__":
    main()
