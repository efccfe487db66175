"""The daemon fires what cron would, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, add_visits, make_watch, visit_document, write_config

from hv_connector.clock import FixedClock
from hv_connector.store import Store
from hv_connector.store.schema import escalations, heartbeats
from hv_connector.watch.daemon import run_daemon
from hv_connector.watch.tick import TickResult

END = START + timedelta(hours=2, minutes=30)


def visits_out() -> list:
    called = [{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}]
    return [visit_document("A"), visit_document("B", check_ins=called, back=timedelta(minutes=75))]


def recorded(store: Store) -> set[tuple[str, object]]:
    with store.connect() as conn:
        return set(conn.execute(select(escalations.c.key, escalations.c.due_at)).all())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_daemon_and_a_cron_tick_fire_the_same_events(store: Store, tmp_path: Path) -> None:
    add_visits(store, visits_out())
    clock = FixedClock(START - timedelta(minutes=20))
    stop = threading.Event()

    def next_tick(_result: TickResult) -> None:  # a daemon ticking every two minutes, on a clock we move
        clock.advance(timedelta(minutes=2))
        if clock.now() > END:
            stop.set()

    run_daemon(make_watch(store, clock), 0, on_tick=next_tick, stop=stop)

    cron_store = Store.open(f"sqlite:///{tmp_path / 'cron.db'}", upgrade=True)
    add_visits(cron_store, visits_out())
    cron_clock = FixedClock(START - timedelta(minutes=20))
    cron = make_watch(cron_store, cron_clock)
    while cron_clock.now() <= END + timedelta(minutes=9):
        cron.tick()
        cron_clock.advance(timedelta(minutes=9))  # cron every 9 minutes: late, never different
    chain_only = {(k, d) for k, d in recorded(store) if "/remind/" not in k}
    assert chain_only == {(k, d) for k, d in recorded(cron_store) if "/remind/" not in k}
    assert len(chain_only) == 8  # A: missed call, 3 steps + all alerted; B: overdue, the same
    cron_store.close()


def stop_daemon_after_first_tick(tmp_path: Path, sqlite_url: str,
                                 sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start ``hvc watch`` as its own process, wait for its first heartbeat, send ``sig``, and wait for it."""
    config = write_config(tmp_path, sqlite_url)
    store = Store.open(sqlite_url, upgrade=True)
    add_visits(store, [visit_document("A")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
    env.update(HVC_CLOCK_START=f"{(START + timedelta(minutes=25)).isoformat()}@{time.time()}",
               HVC_WATCH__TICK_SECONDS="0.5")
    args = [str(Path(sys.executable).with_name("hvc")), "--config", str(config), "watch"]
    daemon = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with store.connect() as conn:
                if conn.execute(select(heartbeats.c.at)).first() is not None:
                    break
            time.sleep(0.2)
        daemon.send_signal(sig)
        out, err = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        store.close()
    return subprocess.CompletedProcess(args, daemon.returncode, out, err)


def test_sigterm_stops_the_daemon_cleanly_after_its_tick(tmp_path: Path, sqlite_url: str) -> None:
    daemon = stop_daemon_after_first_tick(tmp_path, sqlite_url, signal.SIGTERM)
    assert daemon.returncode == 0, daemon.stderr
    assert "fired   #1 visit A checkin-missed step 1 (due 10:20 GMT)" in daemon.stdout
    assert "Traceback" not in daemon.stderr
    assert "INFO hv_connector.watch: watch tick at 2026-11-23T10:25" in daemon.stderr  # the heartbeat, one line a tick
    assert daemon.stderr.rstrip().endswith("INFO hv_connector.watch: watch stopped")
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # journald or a log file: every line timed
    assert all(stamp.match(line) for line in (daemon.stdout + daemon.stderr).splitlines())


def test_ctrl_c_ends_the_watch_with_exit_130_and_one_line_saying_nobody_is_watching(tmp_path: Path,
                                                                                     sqlite_url: str) -> None:
    daemon = stop_daemon_after_first_tick(tmp_path, sqlite_url, signal.SIGINT)
    assert daemon.returncode == 130, daemon.stderr
    assert "Traceback" not in daemon.stderr and "KeyboardInterrupt" not in daemon.stderr
    last = daemon.stderr.rstrip().splitlines()[-1]
    assert last.startswith("hvc: stopped by Ctrl-C") and "nobody is watching" in last
