"""Exactly once, by trial: ``hvc push`` processes SIGKILLed at random moments, CPOMS dropping answers.

Five streams of ``hvc push`` processes run at once against the loopback fake
CPOMS, which records a share of the incidents and then drops the connection
before answering (the worst case: CPOMS has it, we do not know), and answers
503 to everything until the first 20 pushes have died. New finished visits
keep being queued meanwhile, as the lifecycle would. Each process is killed
(SIGKILL) at a random moment of its work — while claiming, mid-request, in a
retry's back-off, between CPOMS storing an incident and the outbox recording
it — until 100 have died that way. The fake CPOMS ignores idempotency keys
throughout (nothing public says CPOMS honours them: shared/apis/cpoms.md §0),
so only asking CPOMS first keeps a record whose answer was lost from arriving
twice; then one clean push runs. What is counted is what CPOMS stored. The
killed pushes are forked from one pre-imported interpreter (forker.py), so
the trial spends its time pushing, not importing; the final push is a fresh
``python -m hv_connector push``. Every record must be in CPOMS exactly once,
and nothing may be left pending, sending or parked. The trial runs on SQLite
and on PostgreSQL, and prints its seed (``HVC_TRIAL_SEED`` replays it).

The same trial runs against two other receivers: one that puts every incident
in its Incident Tray (each record there once, waiting for a person), and one
that cannot be asked at all (its look-up ignores our reference, and it does not
keep the reference where we can read it). Against that one a record whose
answer was lost can only be sent again: nothing may be lost, and every record
CPOMS then holds twice must be marked on its outbox row for a person to check.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hv_connector.outbox.queue import OutboxRecord, get_record
from hv_connector.read.queries import outbox_counts, outbox_rows
from hv_connector.store import Store
from hv_connector.store.rows import IN_TRAY
from hvc_fixtures.data import Dataset
from tests.cpomskit import demo_visit, kit_policies, queue, write_config
from tests.trialkit import Forker, trial_seed

pytestmark = pytest.mark.slow

SEED, PUPILS = 1, 60
DATASET = Dataset(SEED, PUPILS)
SCHOOLS = {"birchwood": "test-token-birchwood", "potton": "test-token-potton"}
KILLS = 100
PUSHERS = 5
NEW_EACH_TIME = 6
DOWN_FOR = 20
"""CPOMS answers 503 to everything until this many pushes have been killed."""
LEASE = "1"
PUSH = ["push", "--lease", LEASE, "--concurrency", "2"]


def keep_killing(forker: Forker, rng: random.Random, kills: list[bool]) -> None:
    """Push and kill, again and again, until the trial has its kills.

    Each push dies a random time (up to 0.25 s) after a random one of its first log lines (its start, or a
    record settled), so kills fall all through a push's work whatever the machine's speed. A push that
    found nothing to do (or finished first) is not a kill; the next one waits a moment for new records
    rather than spend the machine's time on empty pushes.
    """
    while sum(kills) < KILLS:
        killed = forker.push_and_kill(PUSH, rng.randint(0, 2), rng.uniform(0, 0.25))
        kills.append(killed)
        if not killed:
            time.sleep(0.2)


def finish_visits(store: Store, first: int, n: int) -> None:
    policies = kit_policies(*SCHOOLS)
    visits = []
    for number in range(first, first + n):
        school = list(SCHOOLS)[number % len(SCHOOLS)]
        concern = {"cp_concern": True, "concerns": "Unexplained bruising."} if number % 5 == 0 else {}
        visits.append(demo_visit(DATASET, school, number % PUPILS, visit_id=f"v-{number}", **concern))
    queue(store, policies, visits, datetime.now(timezone.utc))


@dataclass
class Trial:
    """What a trial left: the fake CPOMS, the outbox's records and statuses, and the final clean push."""

    fake: Any
    records: list[OutboxRecord]
    statuses: dict[str, int]
    final: subprocess.CompletedProcess[str]
    queued: int
    note: str

    def lost_and_doubled(self) -> tuple[Counter[str], Counter[str]]:
        """The records CPOMS does not hold, and the copies it holds beyond one (each a record id, counted)."""
        expected = Counter(r.report.record_id for r in self.records)
        arrived = Counter(i["source"]["record_id"] for i in self.fake.incidents)
        return expected - arrived, arrived - expected


def kill_pushes(make_cpoms_server: Any, tmp_path: Path, store: Store, database_url: str, **receiver: Any) -> Trial:
    """Kill :data:`KILLS` pushes at random against a fake CPOMS with no idempotency, set up as ``receiver`` says,
    which drops a share of answers after storing and is down at first; then push once, cleanly."""
    seed = trial_seed()
    server = make_cpoms_server(SEED, PUPILS, rate_limit=None, latency_ms=10, idempotency=False, **receiver)
    fake = server.fake
    fake.inject(kind="accept_then_drop", method="POST", path="/incidents", fraction=0.3, count=None)
    fake.inject(status=503, count=None)  # CPOMS is down for the first DOWN_FOR kills, then drops answers only
    config = write_config(tmp_path / "hvc.toml", database_url, server.api, SCHOOLS)
    rng = random.Random(seed)
    queued = 0
    forkers = [Forker(config) for _ in range(PUSHERS)]
    kills: list[bool] = []
    killers = [threading.Thread(target=keep_killing, args=(f, random.Random(rng.random()), kills)) for f in forkers]
    try:
        for killer in killers:
            killer.start()
        while sum(kills) < KILLS:  # the lifecycle keeps finishing visits while pushes die
            if sum(kills) >= DOWN_FOR:
                fake.configure(faults=[f for f in fake.config.faults if f.kind == "accept_then_drop"])
            finish_visits(store, queued, NEW_EACH_TIME)
            queued += NEW_EACH_TIME
            time.sleep(0.3)
    finally:
        for killer in killers:
            killer.join()
        for forker in forkers:
            forker.close()
    fake.clear_faults()
    time.sleep(float(LEASE))  # let the killed pushes' claims lapse
    final = subprocess.run([sys.executable, "-m", "hv_connector", "push", "--all"],
                           env={**os.environ, "HVC_CONFIG": str(config)}, capture_output=True, text=True)
    with store.connect() as conn:
        records = [get_record(conn, row.id) for row in outbox_rows(conn)]
        statuses = outbox_counts(conn)
    note = f"seed {seed}, {sum(kills)} kills"
    assert final.returncode == 0, final.stdout + final.stderr
    assert sum(kills) >= KILLS
    assert len(records) == queued + len(range(0, queued, 5)), note  # each fifth visit also has its concern record
    assert fake.stats.dropped > 0
    return Trial(fake, records, statuses, final, queued, note)


def test_killed_pushes_leave_every_record_in_cpoms_exactly_once(
    make_cpoms_server, tmp_path: Path, store: Store, database_url: str
) -> None:
    trial = kill_pushes(make_cpoms_server, tmp_path, store, database_url)
    lost, doubled = trial.lost_and_doubled()
    assert not lost and not doubled, f"{trial.note}: lost {dict(lost)}, duplicated {dict(doubled)}"  # exactly once
    assert "already there 0," not in trial.final.stdout, "the killed pushes left records CPOMS had: asked, not resent"
    assert trial.statuses == {"sent": len(trial.records)}, f"{trial.note}: nothing pending, sending or parked"


def test_killed_pushes_leave_every_record_in_the_tray_exactly_once_waiting_for_a_person(
    make_cpoms_server, tmp_path: Path, store: Store, database_url: str
) -> None:
    """A receiver that puts every incident in its Incident Tray: each record there once, none sent again."""
    trial = kill_pushes(make_cpoms_server, tmp_path, store, database_url, tray_always=True)
    lost, doubled = trial.lost_and_doubled()
    assert not lost and not doubled, f"{trial.note}: lost {dict(lost)}, duplicated {dict(doubled)}"
    assert all(i["student_id"] is None for i in trial.fake.incidents)
    assert trial.statuses == {IN_TRAY: len(trial.records)}, f"{trial.note}: each waits for a person to attach it"


def test_killed_pushes_against_a_receiver_that_cannot_be_asked_lose_nothing_and_mark_every_second_copy(
    make_cpoms_server, tmp_path: Path, store: Store, database_url: str
) -> None:
    """A receiver whose look-up ignores our reference and which does not keep it where we can read it: after a lost
    answer nothing can tell whether a record arrived, so it is sent again. Nothing may be lost, and every record
    CPOMS now holds twice must be marked on its outbox row for a person to check."""
    trial = kill_pushes(make_cpoms_server, tmp_path, store, database_url,
                        reference_lookup="unfiltered", echo_source=False)
    lost, doubled = trial.lost_and_doubled()
    assert not lost, f"{trial.note}: lost {dict(lost)}"
    assert doubled, f"{trial.note}: with answers dropped and nothing to ask, some record should have arrived twice"
    marked = {r.report.record_id for r in trial.records if r.doubt}
    assert set(doubled) <= marked, f"{trial.note}: in CPOMS twice with no mark: {sorted(set(doubled) - marked)}"
    assert trial.statuses == {"sent": len(trial.records)}, f"{trial.note}: nothing pending, sending or parked"
