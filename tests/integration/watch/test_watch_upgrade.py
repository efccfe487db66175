"""A store upgraded while escalations are running: the watch still knows which episode each event belongs to."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import insert

from hv_connector.clock import LONDON
from hv_connector.store import Store
from hv_connector.store.migrate import alembic_config, head_revision
from hv_connector.store.schema import escalations, visits
from hv_connector.watch.store import load_fired

AT = datetime(2026, 11, 23, 11, 20, tzinfo=LONDON)


def test_events_fired_before_the_episode_column_keep_their_episode(store: Store) -> None:
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
        conn.execute(insert(visits).values(id="pt-2026-0007", school_id="potton", state="escalated",
                                           planned_start=AT, data={}, created_at=AT, updated_at=AT))
        conn.execute(insert(escalations), [
            {"visit_id": "pt-2026-0007", "kind": kind, "step_index": step, "key": key, "due_at": AT}
            for kind, step, key in [
                ("checkin-reminder", 0, "pt-2026-0007/remind/0@20261123T1030Z"),
                ("checkin-missed", 0, "pt-2026-0007/missed:0@20261123T1045Z/step/0"),
                ("checkin-missed", 1, "pt-2026-0007/missed:0@20261123T1045Z/step/1"),
                ("chain-exhausted", 3, "pt-2026-0007/overdue@20261123T1100Z/exhausted"),
            ]])
    assert store.upgrade() == head_revision()

    with store.connect() as conn:
        found = load_fired(conn, ["pt-2026-0007"])["pt-2026-0007"]
    assert {key.split("/", 1)[1]: event.episode for key, event in found.items()} == {
        "remind/0@20261123T1030Z": None,
        "missed:0@20261123T1045Z/step/0": "missed:0@20261123T1045Z",
        "missed:0@20261123T1045Z/step/1": "missed:0@20261123T1045Z",
        "overdue@20261123T1100Z/exhausted": "overdue@20261123T1100Z",
    }
