"""Benchmark: the dashboard on a trust's worth of history — 50,000 visits over five schools.

Builds two SQLite stores with the same mix of states (mostly finished visits,
one in twenty waiting for a decision): one with 50,000 visits, one with 50.
For each it measures, with the Textual Pilot in this run (the machines are
shared and noisy, so only the ratios are compared to the targets):

- time to first full paint: from starting the app to the pending table filled and painted;
- keystroke to updated table: from a key typed in the filter to the table repainted with the matches.

    .venv/bin/python bench/dashboard.py [--visits N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tui"))

from dashkit import BOARD_NOW  # noqa: E402
from dashkit import directory as potton_directory
from sqlalchemy import insert  # noqa: E402
from textual.message import Message  # noqa: E402

from hv_connector.clock import LONDON, FixedClock  # noqa: E402
from hv_connector.models import StaffMember  # noqa: E402
from hv_connector.plugins import Policies, build_plugin_manager  # noqa: E402
from hv_connector.store import Store  # noqa: E402
from hv_connector.store.schema import pupils, visit_events, visits  # noqa: E402
from hv_connector.testing import base_visit, staff  # noqa: E402
from hv_connector.visits.directory import Directory
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
TARGET_PAINT, TARGET_KEYSTROKE = 1.5, 2.0
FILTER_KEYS = "ng"
"""Typed one at a time into the filter; each narrows the list (n: many pupils; ng: the Ngozis)."""


def build_store(path: Path, count: int, seed: int = 11) -> None:
    """A store with ``count`` visits over the five schools, each with its request event and findings."""
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
            state = rng.choices(names, weights)[0]
            if state == "requested":
                when = BOARD_NOW + timedelta(hours=rng.randrange(1, 24 * 14))
            data = base_visit(school, reason="attendance", start=when, emergency=rng.random() < 0.02,
                              pupil={"name": "(from the MIS)", "mis_id": pupil})
            data["id"] = f"v-{n:010d}"
            rows.append({"id": data["id"], "school_id": school, "pupil_mis_id": pupil, "state": state,
                         "planned_start": when, "expected_return": when + timedelta(hours=1),
                         "address_text": data["address"], "reason": "attendance", "staff_ids": ["s1", "s2"],
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


async def measure(path: Path, policies: Policies) -> tuple[float, float]:
    """(seconds to first full paint, seconds from a filter keystroke to the repainted table)."""
    store, session = session_on(path, policies)
    loaded: list[tuple[float, Message]] = []

    def hook(message: Message) -> None:
        if isinstance(message, PendingLoaded):
            loaded.append((time.perf_counter(), message))

    started = time.perf_counter()
    app = HvcApp(session, board_seconds=3600)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        while not loaded:
            await pilot.pause(0.001)
        await pilot.pause()  # the repaint after the table is filled
        paint = time.perf_counter() - started
        app.screen.query_one("#filter").focus()
        keystrokes = []
        for key in FILTER_KEYS:
            text = app.screen.query_one("#filter").value + key
            typed = time.perf_counter()
            await pilot.press(key)
            while not any(m.text == text for _, m in loaded):
                await pilot.pause(0.001)
            await pilot.pause()
            keystrokes.append(time.perf_counter() - typed)
    store.close()
    return paint, statistics.mean(keystrokes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    policies = Policies(build_plugin_manager())
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.db", Path(tmp) / "small.db"
        built = time.perf_counter()
        build_store(big, args.visits)
        build_store(small, args.baseline)
        print(f"built stores: {args.visits} and {args.baseline} visits in {time.perf_counter() - built:.1f}s")
        results: dict[str, list[tuple[float, float]]] = {"big": [], "small": []}
        for _ in range(args.rounds):  # interleaved, so load on the machine hits both alike
            for name, path in (("small", small), ("big", big)):
                results[name].append(asyncio.run(measure(path, policies)))
    paint = {k: statistics.median(p for p, _ in v) for k, v in results.items()}
    keys = {k: statistics.median(s for _, s in v) for k, v in results.items()}
    print(f"first paint: {paint['big'] * 1000:.0f} ms with {args.visits} visits, "
          f"{paint['small'] * 1000:.0f} ms with {args.baseline}")
    print(f"filter keystroke to table: {keys['big'] * 1000:.0f} ms with {args.visits} visits, "
          f"{keys['small'] * 1000:.0f} ms with {args.baseline}")
    print(f"first_paint_ratio: {paint['big'] / paint['small']:.2f} (target ≤ {TARGET_PAINT})")
    print(f"filter_keystroke_ratio: {keys['big'] / keys['small']:.2f} (target ≤ {TARGET_KEYSTROKE})")


if __name__ == "__main__":
    main()
