"""Store fixtures: every test that takes ``store`` (or ``database_url``) runs on SQLite and on PostgreSQL.

PostgreSQL is the server at ``HVC_TEST_DATABASE_URL`` (default: the local one,
database ``test``). When none answers, the PostgreSQL runs are skipped and the
summary says so. Each PostgreSQL test gets a schema of its own (dropped after),
so tests running at the same time never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hv_connector.store import Store
from hv_connector.store.migrate import upgrade_sql

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_postgres: dict[str, str] = {}
"""What the probe found: ``{"url": …}`` when PostgreSQL answered, ``{"skip": reason}`` when not."""


def _probe_postgres() -> None:
    """Find out once whether PostgreSQL answers, remembering the URL or why not."""
    if _postgres:
        return
    url = os.environ.get("HVC_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        _postgres["url"] = url
        _postgres["shown"] = shown
    except Exception as exc:  # any failure to reach it means "skip", with the reason
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _postgres["skip"] = f"no PostgreSQL answered at {shown} ({first_line}); set HVC_TEST_DATABASE_URL"


def postgres_base_url() -> str:
    """The PostgreSQL URL under test, or skip the test naming why."""
    _probe_postgres()
    if "skip" in _postgres:
        pytest.skip(f"PostgreSQL: {_postgres['skip']}")
    return _postgres["url"]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on the test PostgreSQL server whose search_path is a fresh, empty schema."""
    base = postgres_base_url()
    schema = f"hvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a new SQLite file under the test's tmp_path."""
    return f"sqlite:///{tmp_path / 'hvc.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a new SQLite file, then a fresh PostgreSQL schema."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param])


@functools.cache
def _postgres_schema_sql() -> str:
    """The SQL ``hvc db upgrade`` runs on PostgreSQL, rendered once: replaying it beats running Alembic per test."""
    return upgrade_sql("postgresql")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store at the newest schema at ``database_url``, on each backend in turn."""
    if database_url.startswith("postgresql"):
        with psycopg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False)) as conn:
            conn.execute(_postgres_schema_sql())  # one round trip, no parameters: many statements are allowed
    opened = Store.open(database_url, upgrade=True)
    try:
        yield opened
    finally:
        opened.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say whether the store tests ran against PostgreSQL, so a skipped backend is never silent.

    Read from the test reports, so it is right under pytest-xdist too (workers relay their reports).
    """
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "PostgreSQL:" in str(r.longrepr)]
    if skipped:
        reason = str(skipped[0].longrepr).split("PostgreSQL:", 1)[1].strip(" ')\"")
        terminalreporter.write_line(f"PostgreSQL: skipped in {len(skipped)} tests ({reason})", yellow=True, bold=True)
        return
    _probe_postgres()
    if "url" in _postgres:
        terminalreporter.write_line(f"PostgreSQL: tested at {_postgres['shown']}")
