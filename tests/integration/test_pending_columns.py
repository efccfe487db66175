"""Revision 0010: visits written before it are listed for review by their pupil's name, emergencies first."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import insert

from hv_connector.clock import LONDON
from hv_connector.read import queries
from hv_connector.store import Store
from hv_connector.store.migrate import alembic_config, head_revision
from hv_connector.store.schema import visits

AT = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


def test_visits_from_before_the_columns_keep_their_names_and_emergencies(store: Store) -> None:
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0008")
        conn.execute(insert(visits), [
            {"id": visit_id, "school_id": "potton", "state": "requested", "planned_start": AT + timedelta(hours=hours),
             "staff_ids": [], "data": {"pupil": {"name": name}, "emergency": emergency}, "created_at": AT,
             "updated_at": AT}
            for visit_id, name, emergency, hours in [("v-1", "Amira Example", False, 1), ("v-2", "Zoë D'Arcy", True, 3),
                                                     ("v-3", "Noa Sample", False, 2)]])
    assert store.upgrade() == head_revision()

    with store.connect() as conn:
        page = queries.pending(conn)
        found = queries.pending(conn, text="zoë")
        one = queries.pending(conn, limit=1)
    assert [(r.visit_id, r.pupil_name, r.emergency) for r in page.rows] == [
        ("v-2", "Zoë D'Arcy", True), ("v-1", "Amira Example", False), ("v-3", "Noa Sample", False)]
    assert [r.visit_id for r in found.rows] == ["v-2"] and not page.more
    assert [r.visit_id for r in one.rows] == ["v-2"] and one.more
