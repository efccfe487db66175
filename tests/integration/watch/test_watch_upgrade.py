"""A store upgraded while escalations are running: the watch still knows which episode each event belongs to."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import insert, select

from hv_connector.clock import LONDON
from hv_connector.store import Store, audit
from hv_connector.store.migrate import alembic_config, head_revision
from hv_connector.store.schema import audit as audit_table
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


def test_stand_downs_from_before_the_column_are_known_by_their_audit_entry_not_their_note(store: Store) -> None:
    closed = AT.replace(minute=40)
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0003")
        conn.execute(insert(visits).values(id="pt-2026-0008", school_id="potton", state="escalated",
                                           planned_start=AT, data={}, created_at=AT, updated_at=AT))
        conn.execute(insert(escalations), [
            {"visit_id": "pt-2026-0008", "kind": "checkin-missed", "step_index": step, "key": f"pt-2026-0008/m/step/{step}",
             "episode": "m", "due_at": AT, "closed_at": at, "note": note}
            for step, at, note in [(0, closed, "stood down by Jo Watts-Test at 11:40 GMT: Alex rang in"),
                                   (1, AT, "stood down by nobody, phoning")]])  # an acknowledgement's words
        # As that revision's code wrote it (append writes today's columns: record hashes, the detail's hash).
        entry = {"seq": 1, "at": closed, "school_id": "potton", "visit_id": "pt-2026-0008", "actor": "pt-head",
                 "action": "escalation.stand-down", "state": None, "detail": {"escalations": [1]}}
        conn.execute(insert(audit_table).values(**entry, prev_hash=audit.GENESIS_HASH,
                                                hash=audit.entry_hash(audit.GENESIS_HASH, entry)))
    assert store.upgrade() == head_revision()

    with store.connect() as conn:
        found = load_fired(conn, ["pt-2026-0008"])["pt-2026-0008"]
        who = conn.execute(select(escalations.c.stood_down_by).order_by(escalations.c.id)).scalars().all()
    assert [found[f"pt-2026-0008/m/step/{n}"].stood_down for n in (0, 1)] == [True, False]
    assert who == ["pt-head", None]
