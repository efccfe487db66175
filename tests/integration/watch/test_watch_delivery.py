"""Each alarm message delivered once: claimed and recorded one by one, across kills and two watches; a slow notifier
slows nobody; a stand-down is a fact, not the words of a note.

The PostgreSQL cases run against the machine's server (``tests/conftest.py``) and are skipped, with the reason in
the summary, when none answers.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, Recorder, add_visits, gateway_lines, make_watch, visit_document, write_config

from hv_connector.builtin.notifiers import StoreNotifier
from hv_connector.clock import FixedClock
from hv_connector.store import Store
from hv_connector.store.schema import escalations, notifications
from hv_connector.watch.escalations import Escalations
from hv_connector.watch.notify import Notice
from tests.trialkit import trial_seed

HVC = str(Path(sys.executable).with_name("hvc"))


class Counting(Recorder):
    """A gateway that counts every message handed to it, from any thread."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def send(self, notice: Notice, address: str) -> None:
        with self.lock:
            self.sent.append((notice.key, notice.kind, address))


class Hanging(Counting):
    """An SMS gateway that hangs: each send waits up to 30 s (its timeout) unless released."""

    name = "sms"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def send(self, notice: Notice, address: str) -> None:
        if not self.release.wait(30):
            raise TimeoutError("the gateway did not answer within 30 s")
        super().send(notice, address)


def statuses(store: Store, notifier: str) -> Counter[str]:
    with store.connect() as conn:
        return Counter(dict(conn.execute(select(notifications.c.status, func.count())
                                         .where(notifications.c.notifier == notifier)
                                         .group_by(notifications.c.status)).all()))


def test_an_acknowledgement_whose_note_begins_stood_down_by_is_not_a_stand_down(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    alarm = watch.tick().fired[0]  # 10:20: the office call was missed
    Escalations(watch).ack(alarm.id, by="pt-office", note="stood down by nobody yet, phoning Alex")
    clock.set(START + timedelta(minutes=72))  # the watch was down; the call comes at 11:12, staff still not back
    watch.service.check_in("V1", by="pt-office", kind="office-call", note="rang late")
    clock.set(START + timedelta(minutes=75))
    result = watch.tick()
    # The late call closes the missed-call alarm; the visit is still overdue since 11:10, and that alarm fires.
    assert [(e.kind, e.step_index) for e in result.fired] == [("overdue", 0)]
    clock.set(START + timedelta(minutes=85))  # ...and its chain goes on: the note stood nobody down
    assert [(e.kind, e.step_index) for e in watch.tick().fired] == [("overdue", 1)]
    with store.connect() as conn:
        first = conn.execute(select(escalations.c.note, escalations.c.stood_down_by, escalations.c.closed_at)
                             .where(escalations.c.id == alarm.id)).one()
    assert first.note == "stood down by nobody yet, phoning Alex" and first.stood_down_by is None
    assert first.closed_at is not None


def test_a_stand_down_records_who_and_stops_the_chain(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    watch.tick()
    Escalations(watch).stand_down("V1", by="pt-head", note="Alex rang in")
    clock.set(START + timedelta(minutes=40))
    assert watch.tick().fired == []  # the missed call's later steps do not fire
    with store.connect() as conn:
        assert conn.execute(select(escalations.c.stood_down_by)).scalars().all() == ["pt-head"]


def test_a_hanging_gateway_holds_up_neither_the_next_tick_nor_the_other_notifiers(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    sms, board = Hanging(), StoreNotifier()
    watch = make_watch(store, clock, notifiers=[sms, board])
    add_visits(store, [visit_document(f"V{n:02d}") for n in range(20)])
    try:
        first = watch.tick(background=True)  # the daemon's tick: 20 missed calls, 20 texts pending
        assert len(first.fired) == 20
        clock.set(START + timedelta(minutes=30))  # step 2 falls due for every visit
        done: list[object] = []
        ticking = threading.Thread(target=lambda: done.append(watch.tick(background=True)))
        ticking.start()
        ticking.join(25)  # shorter than one hanging send: a tick that waited for the gateway is not done yet
        assert done, "the tick waited for the hanging gateway"
        assert [(e.kind, e.step_index) for e in done[0].fired] == [("checkin-missed", 1)] * 20  # type: ignore[attr-defined]
        deadline = time.monotonic() + 25  # the sms lane claims its first text once the tick's write is done
        while (texts := statuses(store, "sms"))["sending"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert texts["sending"] == 1 and texts["sent"] == 0 and sum(texts.values()) == 40  # one in flight, none lost
        deadline = time.monotonic() + 25  # the board's lane finishes while the gateway still hangs
        while statuses(store, "store") != {"sent": 40} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert statuses(store, "store") == {"sent": 40}  # the board had every alarm meanwhile
    finally:
        sms.release.set()
        watch.courier.wait()
    watch.tick()  # what the hung pass left is sent on the next tick
    assert statuses(store, "sms") == {"sent": 40}
    assert len(sms.sent) == len(set(sms.sent)) == 40


def test_two_watches_at_once_send_each_message_once_and_neither_crashes(store: Store, database_url: str) -> None:
    # One Store each, as two processes would have; on PostgreSQL they used to deadlock.
    other = Store.open(database_url)
    clock = FixedClock(START)
    gateway = Counting()
    watches = [make_watch(store, clock, notifiers=[gateway]), make_watch(other, clock, notifiers=[gateway])]
    add_visits(store, [visit_document(f"V{n:02d}", back=timedelta(minutes=30 + n)) for n in range(30)])
    errors: list[BaseException] = []

    def tick(index: int, gate: threading.Barrier) -> None:
        try:
            gate.wait()
            watches[index].tick()
        except BaseException as exc:  # noqa: BLE001 - a crash is what the test counts
            errors.append(exc)

    try:
        for minutes in (20, 30, 45, 62, 75, 95, 120):
            clock.set(START + timedelta(minutes=minutes))
            gate = threading.Barrier(2)
            pair = [threading.Thread(target=tick, args=(i, gate)) for i in (0, 1)]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join(120)
    finally:
        other.close()
    assert errors == []
    doubled = [m for m, n in Counter(gateway.sent).items() if n > 1]
    assert doubled == []
    with store.connect() as conn:
        owed = Counter(dict(conn.execute(select(notifications.c.status, func.count())
                                         .group_by(notifications.c.status)).all()))
    assert len(gateway.sent) == owed["sent"] == sum(owed.values()) > 100  # every message handed over once, none left


@pytest.mark.slow
def test_a_watch_killed_mid_send_repeats_at_most_the_message_in_flight(tmp_path: Path, store: Store,
                                                                       database_url: str) -> None:
    seed = trial_seed()
    rng = random.Random(seed)
    sent_log = tmp_path / "gateway.log"
    # The fake gateway logs each message handed to it, then takes a moment to answer: a kill lands mid-send.
    script = f'echo "$HVC_NOTIFY_VISIT $HVC_NOTIFY_KIND $HVC_NOTIFY_TO" >> {sent_log}; sleep 0.3'
    config = write_config(tmp_path, database_url)
    with config.open("a") as toml:
        toml.write(f"\n[watch.notifiers.command]\nargv = {json.dumps(['sh', '-c', script])}\ntimeout = 10\n")
    add_visits(store, [visit_document(f"K{n:02d}") for n in range(10)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
    moment = (START + timedelta(minutes=20)).isoformat()  # 10 missed office calls: 10 texts to the office

    kills = 0
    for _attempt in range(3):
        proc = subprocess.Popen([HVC, "--config", str(config), "watch", "--now", moment],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        target = len(gateway_lines(sent_log)) + rng.randint(1, 3)
        while proc.poll() is None and len(gateway_lines(sent_log)) < target:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
    done = subprocess.run([HVC, "--config", str(config), "watch", "--now", moment], capture_output=True,
                          env=env, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counted = Counter(gateway_lines(sent_log))
    note = f"seed {seed}; {kills} kills; {counted}"
    assert set(counted) == {f"K{n:02d} checkin-missed 07700 900104" for n in range(10)}, note  # none missed
    assert sum(counted.values()) - len(counted) <= kills, note  # at most the one in flight per kill
    assert kills, note
