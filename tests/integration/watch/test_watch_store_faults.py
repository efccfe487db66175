"""A database error in a tick — the connection lost, a deadlock — is retried and logged, never a crash.

PostgreSQL only (the machine's server, ``tests/conftest.py``): the fault is real, the watch's own backend ended
with ``pg_terminate_backend`` at the moment the tick writes its events, as a DBA or a server restart would.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, Recorder, add_visits, make_watch, visit_document

from hv_connector.clock import FixedClock
from hv_connector.store import Store


def end_backend(store: Store, pid: int) -> None:
    """End the server process ``pid`` from another session, and wait until it is gone.

    Each check is its own transaction (autocommit): within one transaction PostgreSQL answers
    ``pg_stat_activity`` from a snapshot, and a backend seen once would be seen for ever.
    """
    admin = create_engine(make_url(str(store.engine.url)).render_as_string(hide_password=False),
                          isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + 30
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar():
            assert time.monotonic() < deadline, f"backend {pid} still there 30 s after pg_terminate_backend"
            time.sleep(0.01)
    admin.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_lost_while_the_tick_records_is_retried_logged_and_loses_nothing(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    add_visits(store, [visit_document(f"V{n}") for n in range(3)])
    clock = FixedClock(START + timedelta(minutes=20))  # three missed office calls
    gateway = Recorder()
    watch = make_watch(store, clock, notifiers=[gateway])
    cut: list[int] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def lose_the_connection(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO escalations") and not cut:
            cut.append(cursor.connection.info.backend_pid)
            end_backend(store, cut[0])

    with caplog.at_level(logging.WARNING, logger="hv_connector.store"):
        first = watch.tick()
    assert cut, "the fault was injected"
    assert [(e.visit_id, e.kind) for e in first.fired] == [(f"V{n}", "checkin-missed") for n in range(3)]
    assert ("recording the watch's events was rolled back (the connection to the store was lost); "
            "trying again (2 of 3)") in caplog.messages
    clock.set(START + timedelta(minutes=30))
    second = watch.tick()  # and the watch goes on: the chain's next step
    assert [(e.visit_id, e.step_index) for e in second.fired] == [(f"V{n}", 1) for n in range(3)]
    assert max(Counter(gateway.sent).values()) == 1 and len(gateway.sent) == 6  # each message once
