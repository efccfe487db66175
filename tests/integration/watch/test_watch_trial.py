"""Trials: the watch SIGKILLed a hundred times, and two or three watches at once, on SQLite and on PostgreSQL.

What is counted is what leaves the system: each message the command notifier
hands to a fake SMS gateway, which logs it (``watchkit.add_gateway``). Each
trial prints its seed; ``HVC_TRIAL_SEED=<seed>`` replays it.

- **Killed.** 40 visits are out with their returns falling overdue across
  half an hour. ``hvc watch --now T`` (a test-only option: the clock shows T)
  runs at a series of moments; at each, it is killed with SIGKILL again and
  again, each time once it has written a few more of the rows that tick writes
  (visits moved, events recorded, messages sent), until the trial has its 100
  kills; then it runs to the end at that moment. Every visit's events must be
  exactly those the pure schedule says are due, each recorded once, in step
  order, every message handed over, and no more duplicates than kills (at most
  the message in flight at each kill).
- **Many at once.** Two or three ``hvc watch`` daemons on one store, their
  clocks running in real time through a window in which 40 visits' steps fall
  due: no step missed, no message handed over twice, no crash.

The watches are forked from one pre-imported interpreter (``tests/integration/forker.py``), so the trials spend
their time watching, not importing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import STAFF, START, add_gateway, add_visits, gateway_line, gateway_lines, policies, visit_document, write_config

from hv_connector.models import Visit
from hv_connector.store import Store, audit
from hv_connector.store.schema import WATCH_PREFIX, escalations, heartbeats, notifications, visit_events, visits
from hv_connector.watch.schedule import VISITING_STAFF, DueEvent, Fired, assess
from tests.trialkit import Forker, trial_seed

pytestmark = pytest.mark.slow

VISITS = 40
KILLS = 100
MOMENTS = [START + timedelta(minutes=m) for m in (56, 75, 95, 115, 140)]
"""From the first reminders (10:55) to after the last chain runs out (about 12:20)."""
ROWS_PER_KILL = (1, 6)
"""A kill comes once the watch has written between this many more rows: all through a tick's work."""
CALLED = [{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}]
"""The 10-minute office call, made: these visits only escalate when overdue."""


def due_events(documents: Sequence[Visit], moments: Sequence[datetime]) -> dict[str, list[DueEvent]]:
    """visit id → the events due, from the pure schedule ticked at ``moments`` (each until nothing more)."""
    known = policies()
    result: dict[str, list[DueEvent]] = {}
    for visit in documents:
        assert visit.id is not None
        plan = known.ask("potton", "checkin_plan", visit=visit)
        chain = known.ask("potton", "escalation_chain", visit=visit)
        fired: dict[str, Fired] = {}
        result[visit.id] = []
        for moment in moments:
            while events := assess(visit, plan, chain, fired, moment).events:
                fired.update((event.key, Fired.of(event)) for event in events)
                result[visit.id] += events
    return result


def expected(documents: Sequence[Visit], moments: Sequence[datetime]) -> dict[str, set[str]]:
    """visit id → keys of the events due, from the pure schedule ticked at ``moments`` (each until nothing more)."""
    return {visit_id: {event.key for event in events} for visit_id, events in due_events(documents, moments).items()}


def owed(documents: Sequence[Visit], moments: Sequence[datetime]) -> set[str]:
    """The gateway's line for each text the schedule owes: every event due, its text, to every mobile its roles
    reach (worked out from the directory, not from what the watch recorded)."""
    visiting = {visit.id: [member.mobile for member in visit.staff] for visit in documents}
    return {gateway_line(visit_id, event.kind, mobile, event.text)
            for visit_id, events in due_events(documents, moments).items() for event in events
            for role in event.who
            for mobile in (visiting[visit_id] if role == VISITING_STAFF else
                           [p["mobile"] for p in STAFF if role in p["roles"]])
            if mobile}


def recorded(store: Store) -> dict[str, set[str]]:
    """visit id → keys of the events the watch recorded."""
    with store.connect() as conn:
        rows = conn.execute(select(escalations.c.visit_id, escalations.c.key)).all()
    found: dict[str, set[str]] = {}
    for visit_id, key in rows:
        found.setdefault(visit_id, set()).add(key)
    return found


def written(store: Store) -> int:
    """Rows the watch has written so far: visits moved, events recorded, messages sent."""
    with store.connect() as conn:
        return int(conn.execute(select(
            select(func.count()).select_from(visit_events).scalar_subquery()
            + select(func.count()).select_from(escalations).scalar_subquery()
            + select(func.count()).select_from(notifications).where(notifications.c.status == "sent")
            .scalar_subquery())).scalar_one())


def sent_everything(store: Store, log: Path, kills: int, note: str) -> None:
    """Every message recorded was handed to the gateway, none more than once per kill, none left to send."""
    with store.connect() as conn:
        statuses = dict(conn.execute(select(notifications.c.status, func.count())
                                     .where(notifications.c.notifier == "command")
                                     .group_by(notifications.c.status)).all())
    handed = Counter(gateway_lines(log))
    duplicates = sum(handed.values()) - len(handed)
    print(f"{note}: {len(handed)} messages, {duplicates} handed over twice")
    assert statuses == {"sent": len(handed)}, f"{note}: {statuses}"  # nothing left unsent, nothing extra
    assert duplicates <= kills, f"{note}: {duplicates} duplicates: {[m for m, n in handed.items() if n > 1]}"


def test_a_watch_killed_a_hundred_times_misses_no_step_and_repeats_at_most_the_message_in_flight(
        store: Store, database_url: str, tmp_path: Path) -> None:
    seed = trial_seed()
    rng = random.Random(seed)
    log = tmp_path / "gateway.log"
    config = write_config(tmp_path, database_url)
    add_gateway(config, log)
    documents = [visit_document(f"T{n:03d}", back=timedelta(minutes=60 + 5 * (n % 7)), check_ins=CALLED)
                 for n in range(VISITS)]
    add_visits(store, documents)
    forker = Forker(config)
    output = tmp_path / "watch.out"
    kills = 0
    try:
        for n, moment in enumerate(MOMENTS):
            args = ["watch", "--now", moment.isoformat()]
            while kills < KILLS * (n + 1) // len(MOMENTS):  # the kills spread over the moments
                target = written(store) + rng.randint(*ROWS_PER_KILL)
                pid = forker.start(args, output)
                while (ended := forker.poll(pid)) is None and written(store) < target:
                    time.sleep(0.002)
                if ended is not None:
                    assert ended["code"] == 0, output.read_text()[-2000:]
                    break  # the tick finished first: this moment's work is done
                os.kill(pid, signal.SIGKILL)
                reaped = forker.reap(pid)
                if not reaped["killed"]:  # it ended between the poll and the kill: as if it finished first
                    assert reaped["code"] == 0, output.read_text()[-2000:]
                    break
                kills += 1
            last = forker.reap(forker.start(args, output))
            assert last["code"] == 0, output.read_text()[-2000:]
    finally:
        forker.close()

    note = f"seed {seed}, {kills} kills on {store.dialect}"
    assert kills == KILLS, note
    assert recorded(store) == expected(documents, MOMENTS), note  # every event due, none missed, none extra
    with store.connect() as conn:
        steps = conn.execute(select(escalations.c.visit_id, escalations.c.step_index).order_by(escalations.c.id)
                             .where(escalations.c.kind != "checkin-reminder")).all()
        states = set(conn.execute(select(visits.c.state)).scalars())
        broken = audit.verify(conn)
    in_order: dict[str, list[int]] = {}
    for visit_id, step in steps:
        in_order.setdefault(visit_id, []).append(step)
    assert all(s == [0, 1, 2, 3] for s in in_order.values()) and len(in_order) == VISITS, note  # in order
    assert states == {"escalated"} and broken is None, note
    sent_everything(store, log, kills, note)
    assert set(gateway_lines(log)) == owed(documents, MOMENTS), note  # every text the schedule owes left, and no other


AT_ONCE = 40
"""Visits whose steps fall due while the watches run, one step of each visit's chain (1st, 2nd, 3rd, all alerted)."""
OFFSETS = [timedelta(minutes=m) for m in (10, 20, 35, 50)]
"""After the expected return: when Potton's chain reaches step 1, 2, 3 and everyone (office call made)."""
SPREAD = timedelta(seconds=0.06)
"""Between one visit's step falling due and the next's: 40 visits over 2.4 s."""
TICK = "0.3"
"""The daemons' tick interval, seconds."""
T0 = START + timedelta(hours=2)
"""12:00: the first of the steps falls due."""


def falling_due() -> list[Visit]:
    """AT_ONCE visits, each with one step falling due at T0 + n × SPREAD (the earlier steps already due)."""
    return [visit_document(f"M{n:02d}", back=T0 - START - OFFSETS[n % len(OFFSETS)] + n * SPREAD, check_ins=CALLED)
            for n in range(AT_ONCE)]


class Watches:
    """``hvc watch`` daemons forked from one interpreter, their clocks running in real time from just before T0."""

    def __init__(self, store: Store, database_url: str, tmp_path: Path, count: int) -> None:
        self.store, self.tmp_path, self.log = store, tmp_path, tmp_path / "gateway.log"
        config = write_config(tmp_path, database_url)
        add_gateway(config, self.log)
        self.forker = Forker(config)
        self.env = {"HVC_CLOCK_START": f"{(T0 - timedelta(seconds=1)).isoformat()}@{time.time():.3f}",
                    "HVC_WATCH__TICK_SECONDS": TICK}
        self.pids = [self.forker.start(["watch"], self.output(i), self.env) for i in range(count)]
        self.ended: set[int] = set()

    def output(self, index: int) -> Path:
        return self.tmp_path / f"watch{index}.out"

    def hvc(self, *args: str) -> str:
        """Run ``hvc ARGS`` on the watches' clock; its output."""
        out = self.tmp_path / "hvc.out"
        out.unlink(missing_ok=True)
        self.forker.reap(self.forker.start(list(args), out, self.env))
        return out.read_text()

    def stop(self, index: int, sig: signal.Signals = signal.SIGTERM) -> dict[str, object]:
        """Send ``sig`` to watch ``index`` and wait for it to end: how it ended."""
        os.kill(self.pids[index], sig)
        self.ended.add(self.pids[index])
        return self.forker.reap(self.pids[index])

    def close(self) -> None:
        for pid in set(self.pids) - self.ended:
            os.kill(pid, signal.SIGKILL)
            self.forker.reap(pid)
        self.forker.close()

    def beating(self) -> int:
        """How many watches have ticked."""
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(heartbeats)
                                    .where(heartbeats.c.name.startswith(WATCH_PREFIX))).scalar_one())

    def wait_for_beats(self, count: int) -> None:
        """Wait (up to a minute) until ``count`` watches have ticked."""
        deadline = time.monotonic() + 60
        while self.beating() < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def last_tick(self) -> datetime:
        """The latest moment any watch ticked at: every step due by then must have fired."""
        with self.store.connect() as conn:
            return conn.execute(select(func.max(heartbeats.c.at)).where(heartbeats.c.name.startswith(WATCH_PREFIX))
                                ).scalar_one()


def no_crash(watches: Watches, index: int, ended: dict[str, object], note: str) -> None:
    text = watches.output(index).read_text()
    assert ended["code"] == 0 and "Traceback" not in text and "tick failed" not in text, f"{note}: {text[-3000:]}"


@pytest.mark.parametrize("count", [2, 3])
def test_two_or_three_watches_at_once_miss_no_step_and_send_no_message_twice(
        store: Store, database_url: str, tmp_path: Path, count: int) -> None:
    documents = falling_due()
    add_visits(store, documents)
    watches = Watches(store, database_url, tmp_path, count)
    try:
        time.sleep(AT_ONCE * SPREAD.total_seconds() + 1.5)  # every step falls due, and a tick or two more
        ended = [watches.stop(i) for i in range(count)]
    finally:
        watches.close()
    note = f"{count} watches on {store.dialect}"
    for index, end in enumerate(ended):
        no_crash(watches, index, end, note)
    assert recorded(store) == expected(documents, [T0 - timedelta(seconds=1), watches.last_tick()]), note
    sent_everything(store, watches.log, 0, note)  # no message handed over twice
    assert set(gateway_lines(watches.log)) == owed(documents, [T0 - timedelta(seconds=1), watches.last_tick()]), note


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_watches_on_one_postgresql_share_the_work_and_carry_on_when_one_is_killed(
        store: Store, database_url: str, tmp_path: Path) -> None:
    documents = falling_due()
    add_visits(store, documents)
    watches = Watches(store, database_url, tmp_path, 3)
    try:
        watches.wait_for_beats(3)
        status = json.loads(watches.hvc("status", "--json"))
        killed = watches.stop(0, signal.SIGKILL)  # its host died: mid-tick, or mid-send
        time.sleep(AT_ONCE * SPREAD.total_seconds())
        ended = [watches.stop(i) for i in (1, 2)]
    finally:
        watches.close()
    note = "3 watches on postgresql, one killed"
    assert sorted(w["name"] for w in status["watches"]) == sorted(f"{WATCH_PREFIX}{socket.gethostname()}:{pid}"
                                                                  for pid in watches.pids)  # `hvc status`: each alive
    assert killed["killed"]
    for index, end in zip((1, 2), ended, strict=True):
        no_crash(watches, index, end, note)
    # The steps falling due after the kill were all recorded and sent, by the other two.
    assert recorded(store) == expected(documents, [T0 - timedelta(seconds=1), watches.last_tick()]), note
    with store.connect() as conn:
        workers = set(conn.execute(select(heartbeats.c.name).where(heartbeats.c.name.startswith(WATCH_PREFIX)))
                      .scalars())
    assert len(workers) == 3, note
    sent_everything(store, watches.log, 1, note)  # at most the one message the killed watch had in flight
    assert set(gateway_lines(watches.log)) == owed(documents, [T0 - timedelta(seconds=1), watches.last_tick()]), note
