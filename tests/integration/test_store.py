"""The store opens, upgrades and keeps time the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, inspect, select

from hv_connector.clock import LONDON
from hv_connector.errors import StoreError
from hv_connector.store import Store
from hv_connector.store.migrate import head_revision
from hv_connector.store.schema import metadata, quarantine, visits
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.records import Rejected
from hv_connector.sync.store import REPORTED_REJECTS, quarantine_records

pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_fresh_store_is_upgraded_to_every_table(database_url: str) -> None:
    with Store.open(database_url, upgrade=True) as store:
        assert store.revision() == head_revision()
        with store.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    assert set(metadata.tables) <= tables


def test_downgrade_to_nothing_and_back_leaves_the_same_schema(store: Store) -> None:
    from alembic import command

    from hv_connector.store.migrate import alembic_config

    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with store.connect() as conn:
        assert not set(metadata.tables) & set(inspect(conn).get_table_names())
    assert store.upgrade() == head_revision()
    assert store.revision() == head_revision()


def test_times_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    start = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)  # the hour the clocks go back
    now = datetime(2026, 10, 20, 9, 0, tzinfo=timezone.utc)
    with store.begin() as conn:
        conn.execute(insert(visits).values(
            id="v1", school_id="potton", state="requested", planned_start=start, data={},
            created_at=now, updated_at=now,
        ))
    with store.connect() as conn:
        row = conn.execute(select(visits).where(visits.c.planned_start > datetime(2026, 10, 25, tzinfo=LONDON))).one()
    assert row.planned_start == start.astimezone(timezone.utc)
    assert row.planned_start.utcoffset().total_seconds() == 0
    assert row.staff_ids == [] and row.version == 1


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(Exception, match="timezone-aware"), store.begin() as conn:
        conn.execute(insert(visits).values(
            id="v1", school_id="potton", state="requested", planned_start=datetime(2026, 10, 25, 9), data={},
            created_at=datetime.now(timezone.utc), updated_at=datetime.now(timezone.utc),
        ))


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    now = datetime.now(timezone.utc)
    with pytest.raises(RuntimeError), store.begin() as conn:
        conn.execute(insert(visits).values(
            id="v1", school_id="potton", state="requested", planned_start=now, data={},
            created_at=now, updated_at=now,
        ))
        raise RuntimeError("half-way")
    with store.connect() as conn:
        assert conn.execute(select(visits)).all() == []


def test_the_sqlite_file_is_created_private_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "data" / "hvc.db"
    old = os.umask(0o000)  # as permissive as it gets: the file's mode must not depend on the umask
    try:
        store = Store.open(f"sqlite:///{path}")
    finally:
        os.umask(old)
    with store.begin() as conn:
        conn.execute(insert(visits).values(
            id="v1", school_id="potton", state="requested", planned_start=datetime.now(timezone.utc), data={},
            created_at=datetime.now(timezone.utc), updated_at=datetime.now(timezone.utc),
        ))
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    wal = path.with_name("hvc.db-wal")
    assert _mode(path) == 0o600
    assert wal.exists() and _mode(wal) == 0o600
    store.close()


def test_the_default_store_lives_in_the_user_data_directory() -> None:
    from hv_connector.store import default_database_path

    store = Store.open()
    path = default_database_path()
    assert path.parent.name == "hv-connector"
    assert path.is_relative_to(os.environ["XDG_DATA_HOME"])
    assert _mode(path) == 0o600
    assert store.revision() == head_revision()
    store.close()


def test_a_postgresql_store_behind_the_code_names_the_upgrade_command(postgres_url: str) -> None:
    with pytest.raises(StoreError, match="run `hvc db upgrade`"):
        Store.open(postgres_url)
    Store.open(postgres_url, upgrade=True).close()
    Store.open(postgres_url).close()


def test_an_unknown_backend_names_the_setting() -> None:
    with pytest.raises(StoreError, match="HVC_DATABASE__URL"):
        Store.open("mysql://hvc@db.example/hvc")
    with pytest.raises(StoreError, match="HVC_DATABASE__URL"):
        Store.open("not a url")


def test_the_migrations_build_exactly_the_tables_in_schema_py(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == [], "schema.py and the migrations disagree: add a revision for the change"


def test_a_sync_cursor_stored_as_a_time_becomes_the_wonde_adapters_text_and_back(store: Store) -> None:
    from alembic import command
    from sqlalchemy import text

    from hv_connector.store.migrate import alembic_config
    from hv_connector.sync.cursors import TimeCursor

    after = datetime(2026, 11, 20, 7, 30, 5, 120000, tzinfo=timezone.utc)
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
        conn.execute(text("INSERT INTO sync_cursors (school_id, resource, updated_after) VALUES "
                          "('potton', 'pupils', :after), ('potton', 'departures', NULL)"),
                     {"after": after if conn.dialect.name == "postgresql" else "2026-11-20 07:30:05.120000"})
    store.upgrade()
    with store.connect() as conn:
        rows = {r.resource: (r.adapter, r.position) for r in conn.execute(text("SELECT * FROM sync_cursors"))}
    assert rows == {"pupils": ("wonde", rows["pupils"][1]), "departures": ("wonde", None)}
    assert TimeCursor(rows["pupils"][1]).since == after
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    with store.connect() as conn:
        back = conn.execute(text("SELECT updated_after FROM sync_cursors WHERE resource = 'pupils'")).scalar_one()
    assert str(back).startswith("2026-11-20 07:30:05.12")
    store.upgrade()


def test_a_page_of_bad_records_goes_to_quarantine_in_a_fixed_number_of_queries(store: Store) -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    page = [Rejected(resource="students", record_id=f"A{n}", reason="bad", payload={"n": n}) for n in range(80)]
    page += [Rejected(resource="students", record_id="A0", reason="worse", payload={"n": "again"}),
             Rejected(resource="students", reason="no id"), Rejected(resource="contacts", record_id="A1", reason="c")]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        for _ in ("first sighting", "seen again"):
            result = SchoolResult(school_id="potton", started_at=now)
            with store.begin() as conn:
                quarantine_records(conn, "potton", page, result, now)
            assert result.quarantined == len(page) and len(result.rejected) == REPORTED_REJECTS
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "quarantine" in s or "pupils" in s]) <= 8  # 4 a page, whatever its size
    with store.connect() as conn:
        rows = conn.execute(select(quarantine.c.resource, quarantine.c.record_id, quarantine.c.reason)).all()
    assert len(rows) == 82  # one open row per record: 80 students (A0 once), one without an id, one contact
    assert ("students", "A0", "worse") in rows and ("contacts", "A1", "c") in rows
