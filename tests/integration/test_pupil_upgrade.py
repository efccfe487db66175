"""A store upgraded to revision 0005: pupils synced before it keep their key and are found by the feed's id."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, select

from hv_connector.store import Store
from hv_connector.store.migrate import alembic_config, head_revision
from hv_connector.store.schema import pupil_attendance, pupil_contacts, pupils
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.records import AttendanceRecord, ContactRecord, PupilRecord
from hv_connector.sync.store import write_pupils

AT = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def test_pupils_from_before_the_upgrade_are_updated_in_place_and_flags_may_be_unknown(store: Store) -> None:
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
        conn.execute(insert(pupils).values(school_id="potton", mis_id="A1749191433", display_name="Tam Example",
                                           upn="X000000000011"))
    assert store.upgrade() == head_revision()
    record = PupilRecord(mis_id="A1749191433", native_id="9919", upn="X000000000011", display_name="Tam Example",
                         contacts=(ContactRecord(mis_id="C2", name="Alex Example"),))
    result = SchoolResult("potton", AT)
    with store.begin() as conn:
        write_pupils(conn, "potton", [record], result, AT)
    assert (result.added, result.updated) == (0, 1)
    with store.connect() as conn:
        row = conn.execute(select(pupils.c.mis_id, pupils.c.source_id, pupils.c.native_id)).one()
        flags = conn.execute(select(pupil_contacts.c.parental_responsibility,
                                    pupil_contacts.c.lives_with_pupil)).one()
    assert tuple(row) == ("A1749191433", "A1749191433", "9919")
    assert tuple(flags) == (None, None)


def test_after_revision_0014_absences_may_be_unknown_and_figures_stored_before_are_kept(store: Store) -> None:
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0013")
        conn.execute(insert(pupil_attendance).values(school_id="potton", pupil_mis_id="A1749191433", period="term",
                                                     possible=100, attended=90, authorised=6, unauthorised=4))
    assert store.upgrade() == head_revision()
    record = PupilRecord(mis_id="A1749191433", display_name="Tam Example",
                         attendance=(AttendanceRecord(period="summary", possible=110, attended=99),))
    with store.begin() as conn:
        write_pupils(conn, "potton", [record], SchoolResult("potton", AT), AT)
    with store.connect() as conn:
        rows = conn.execute(select(pupil_attendance.c.period, pupil_attendance.c.authorised,
                                   pupil_attendance.c.unauthorised)).all()
    assert sorted(map(tuple, rows)) == [("summary", None, None), ("term", 6, 4)]
