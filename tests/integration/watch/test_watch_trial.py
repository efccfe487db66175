"""Trial: ``hvc watch`` as a real process, SIGKILLed at random moments and restarted, misses nothing and repeats nothing.

100 visits are out with their returns falling overdue across half an hour.
The watch runs as ``hvc watch --now T`` (a test-only option: the clock shows
T) at a series of moments; at each, it may be killed with SIGKILL in the
middle of its tick — once it has written a random number of the rows that
tick writes (visits moved, events recorded, notifications sent) — and is then
restarted at the same moment until a run completes. At the end, every visit's
events are exactly those the pure schedule says are due, each recorded once,
in step order, each notified once.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, add_visits, policies, visit_document, write_config

from hv_connector.store import Store, audit
from hv_connector.store.schema import escalations, notifications, visits
from hv_connector.watch.schedule import Fired, assess

HVC = str(Path(sys.executable).with_name("hvc"))
VISITS = 100
MOMENTS = [START + timedelta(minutes=m) for m in (56, 75, 95, 115, 140)]
"""From the first reminders (10:55) to after the last chain runs out (about 12:20)."""
KILL_CHANCE = (0.8, 0.3)
"""How likely the first run at a moment is killed, and its restart: a kill costs a whole start-up, so few, all mid-tick."""


def trial_visits() -> list:
    """Potton visits whose 10-minute office call was made, due back between 11:00 and 11:30."""
    return [visit_document(f"T{n:03d}", back=timedelta(minutes=60 + 5 * (n % 7)),
                           check_ins=[{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}])
            for n in range(VISITS)]


def expected(documents: list, moments: list) -> tuple[dict[str, dict[str, object]], list[int]]:
    """visit id → key → due time, from the pure schedule ticked at the same moments; and events per moment."""
    known = policies()
    result: dict[str, dict[str, object]] = {}
    per_moment = [0] * len(moments)
    for visit in documents:
        plan = known.ask("potton", "checkin_plan", visit=visit)
        chain = known.ask("potton", "escalation_chain", visit=visit)
        fired: dict[str, Fired] = {}
        for n, moment in enumerate(moments):
            for event in assess(visit, plan, chain, fired, moment).events:
                fired[event.key] = Fired.of(event)
                per_moment[n] += 1
        result[visit.id] = {k: f.due_at for k, f in fired.items()}
    return result, per_moment


def written(db: Path) -> int:
    """Rows the watch has written so far: visits moved, events recorded, notifications sent."""
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM visit_events) + (SELECT count(*) FROM escalations)"
                            " + (SELECT count(*) FROM notifications WHERE status = 'sent')").fetchone()[0]


def run_until_done(config: Path, db: Path, moment, rows: int, rng: random.Random, log: list[str]) -> None:
    """Run one tick at ``moment``; kill it mid-tick (or not), and restart until a run completes.

    ``rows`` is about what the tick writes; a kill comes once a random number of them are written.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
    for attempt in range(12):
        proc = subprocess.Popen([HVC, "--config", str(config), "watch", "--now", moment.isoformat()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        if attempt < len(KILL_CHANCE) and rng.random() < KILL_CHANCE[attempt]:
            start, target = written(db), rng.randint(1, max(1, rows))
            while proc.poll() is None and written(db) - start < target:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                log.append(f"{moment:%H:%M} killed on attempt {attempt + 1}, {written(db) - start} rows in")
                continue
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return
    raise AssertionError(f"the watch never completed a tick at {moment}")


@pytest.mark.slow
def test_killed_and_restarted_the_watch_fires_every_step_once_in_order(tmp_path: Path, sqlite_url: str) -> None:
    seed = int(os.environ.get("HVC_TRIAL_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    config = write_config(tmp_path, sqlite_url)
    store = Store.open(sqlite_url, upgrade=True)
    documents = trial_visits()
    add_visits(store, documents)
    want, per_moment = expected(documents, MOMENTS)
    kills: list[str] = []
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    for moment, events in zip(MOMENTS, per_moment, strict=True):
        run_until_done(config, db, moment, 3 * events, rng, kills)  # each event: its row and two notifications

    with store.connect() as conn:
        rows = conn.execute(select(escalations).order_by(escalations.c.id)).mappings().all()
        per_escalation = dict(conn.execute(select(notifications.c.escalation_id, func.count())
                                           .where(notifications.c.status == "sent")
                                           .group_by(notifications.c.escalation_id)).all())
        states = set(conn.execute(select(visits.c.state)).scalars())
        broken = audit.verify(conn)
    store.close()
    got: dict[str, dict[str, object]] = {}
    steps: dict[str, list[int]] = {}
    for row in rows:
        got.setdefault(row["visit_id"], {})[row["key"]] = row["due_at"]
        if row["kind"] != "checkin-reminder":
            steps.setdefault(row["visit_id"], []).append(row["step_index"])
    note = f"seed {seed}; {len(kills)} kills: {kills}"
    assert got == want, note  # every event due, none missed, none extra
    assert all(s == [0, 1, 2, 3] for s in steps.values()) and len(steps) == VISITS, note  # once each, in order
    assert set(per_escalation.values()) == {2} and len(per_escalation) == len(rows), note  # store + log, once
    assert states == {"escalated"} and broken is None, note
    assert kills, note  # the trial did kill the watch, each time in the middle of a tick
