"""The watch daemon pushes a safeguarding concern to CPOMS on its next tick, ahead of the scheduled push."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from hv_connector.runtime import Runtime
from hv_connector.store import Store
from hv_connector.watch.concerns import concern_pusher
from hv_connector.watch.daemon import run_daemon
from hv_connector.watch.tick import Watch
from hvc_fixtures.data import Dataset
from hvc_fixtures.serve import RunningServer
from tests.cpomskit import demo_visit, kit_policies, queue, write_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_the_daemon_sends_the_concern_at_once_and_leaves_routine_reports_to_hvc_push(
        tmp_path: Path, sqlite_url: str, cpoms_server: RunningServer) -> None:
    dataset = Dataset(1, 60)
    store = Store.open(sqlite_url)
    queue(store, kit_policies("birchwood"), [demo_visit(dataset, "birchwood", 1, visit_id="v-1")], NOW)
    queue(store, kit_policies("birchwood"),
          [demo_visit(dataset, "birchwood", 2, visit_id="v-2", cp_concern=True, concerns="Bruise on the arm.")],
          NOW, kind="concern")
    config = write_config(tmp_path / "hvc.toml", sqlite_url, cpoms_server.api, {"birchwood": "test-token-birchwood"})
    rt = Runtime(config_path=config)
    stop = threading.Event()
    run_daemon(Watch.from_runtime(rt), 60, concern_pusher(rt), on_tick=lambda _r: stop.set(), stop=stop)
    assert [(i["kind"], i["source"]["record_id"]) for i in cpoms_server.fake.incidents] == [("concern", "v-2/concern")]
    store.close()


def test_a_concern_written_between_ticks_goes_out_before_the_next_tick(
        tmp_path: Path, sqlite_url: str, cpoms_server: RunningServer) -> None:
    dataset = Dataset(1, 60)
    store = Store.open(sqlite_url)
    config = write_config(tmp_path / "hvc.toml", sqlite_url, cpoms_server.api, {"birchwood": "test-token-birchwood"})
    rt = Runtime(config_path=config)
    stop, ticked = threading.Event(), threading.Event()
    ticks: list[object] = []

    def on_tick(result: object) -> None:
        ticks.append(result)
        ticked.set()

    daemon = threading.Thread(target=run_daemon, args=(Watch.from_runtime(rt), 600, concern_pusher(rt)),
                              kwargs={"on_tick": on_tick, "stop": stop})
    daemon.start()
    try:
        assert ticked.wait(30)
        queue(store, kit_policies("birchwood"),
              [demo_visit(dataset, "birchwood", 3, visit_id="v-3", cp_concern=True, concerns="Said she is scared.")],
              NOW, kind="concern")
        for _ in range(300):  # up to 30 s; the next tick is 10 minutes away
            if cpoms_server.fake.incidents:
                break
            stop.wait(0.1)
        assert [i["source"]["record_id"] for i in cpoms_server.fake.incidents] == ["v-3/concern"]
        assert len(ticks) == 1
    finally:
        stop.set()
        daemon.join(30)
        store.close()
