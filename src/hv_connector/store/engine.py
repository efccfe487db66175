"""Opening the store: one code path for SQLite (the embedded default) and PostgreSQL.

SQLite files are created with mode 0600 before SQLite first opens them (pupil
background and visit records are personal data), run in WAL mode with foreign
keys on, and are upgraded to the newest schema when opened. Writes go through
:meth:`Store.begin`, which on SQLite takes the write lock at the start of the
transaction (``BEGIN IMMEDIATE``): two processes writing the same file queue
up instead of failing half-way with "database is locked".

PostgreSQL URLs use psycopg 3: ``postgresql+psycopg://user@host:5432/dbname``.
A PostgreSQL store is upgraded by ``hvc db upgrade`` (a trust's DBA decides
when); opening one that is behind is a :class:`~hv_connector.errors.StoreError`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from hv_connector.errors import InputError, StoreError, excerpt
from hv_connector.files import tighten
from hv_connector.store.heads import current_revision, head_revision

log = logging.getLogger("hv_connector.store")

APP_NAME = "hv-connector"
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a writer waits for another process's write to finish before giving up."""

_WRITE = "hvc_write"
RETRYABLE_SQLSTATES = ("40001", "40P01")
"""PostgreSQL's serialization failure and deadlock: the transaction rolled back whole, so it is safe to try again."""
TRANSACTION_ATTEMPTS = 3
"""How many times :meth:`Store.retrying` runs a transaction that a serialization failure, a deadlock or a lost
connection rolled back."""

T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` rolled its whole transaction back for a reason that running it again can cure.

    A serialization failure or deadlock, or the connection lost (the server restarted, a DBA ended the
    session, the network dropped): SQLAlchemy then discards the connection, and the next attempt opens a
    new one. A connection lost during COMMIT leaves it unknown whether the commit happened, so work run
    through :meth:`Store.retrying` must be safe to run again after it did.
    """
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def default_database_path() -> Path:
    """Where the embedded SQLite store lives: ``hvc.db`` in the platform's user data directory."""
    from platformdirs import user_data_dir  # only when no store is configured: cron's runs name theirs

    return Path(user_data_dir(APP_NAME)) / "hvc.db"


def default_database_url() -> str:
    """The SQLAlchemy URL of :func:`default_database_path`."""
    return f"sqlite:///{default_database_path()}"


def sqlite_path(url: URL) -> Path | None:
    """The file an SQLite URL points at, or ``None`` for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable and writable by the owner only; tighten it if it exists.

    The file exists with mode 0600 before SQLite opens it, so there is no
    moment when another user could read it; SQLite gives its ``-wal`` and
    ``-shm`` files the same mode as the database file. A store that already
    exists (restored from a backup, touched by an installer) is made 0600
    too, or refused with the ``chmod`` that fixes it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            tighten(file)
        return
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask said


def parse_database_url(url: str) -> URL:
    """``url`` parsed, or a :class:`StoreError` naming the setting when it is not an SQLite or PostgreSQL URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            "the database url is not an SQLite or PostgreSQL URL: set HVC_DATABASE__URL (or `url` under "
            "[database] in hvc.toml) to e.g. sqlite:////var/lib/hv-connector/hvc.db or "
            "postgresql+psycopg://hvc@db.example:5432/hvc"
        )
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        create_private_file(path)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    else:
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own BEGIN, so writes can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def create_store_engine(url: str | None = None) -> Engine:
    """A SQLAlchemy engine for ``url`` (default: :func:`default_database_url`), set up as the store needs."""
    parsed = parse_database_url(url or default_database_url())
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)


class Store:
    """The database of one installation: an engine plus the transactions everyone uses.

    ``with store.begin() as conn:`` is one write transaction (committed at the
    end of the block, rolled back on an exception); ``with store.connect() as
    conn:`` is for reading.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool | None = None) -> Store:
        """Open the store at ``url`` (default: the SQLite file of :func:`default_database_url`).

        ``upgrade`` runs the migrations to the newest schema first; by default
        SQLite is upgraded and PostgreSQL is only checked (run ``hvc db upgrade``).
        """
        engine = create_store_engine(url)
        store = cls(engine)
        try:
            if upgrade if upgrade is not None else store.dialect == "sqlite":
                if store.revision() != head_revision():  # most opens: already current, skip Alembic
                    store.upgrade()
            else:
                store.require_current()
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction; on SQLite it holds the write lock from its first statement."""
        with self._connection() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def retrying(self, work: Callable[[Connection], T], *, what: str = "a transaction") -> T:
        """Run ``work`` in one write transaction, again (logged) if :func:`is_retryable` says running it again cures it.

        ``work`` must start from nothing each time: whatever it gathered in an
        attempt that rolled back is gone. It must also be safe to run again
        after a commit whose answer was lost with the connection.
        """
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                with self.begin() as conn:
                    return work(conn)
            except DBAPIError as exc:
                if attempt == TRANSACTION_ATTEMPTS or not is_retryable(exc):
                    raise
                why = "the connection to the store was lost" if exc.connection_invalidated else type(exc.orig).__name__
                log.warning("%s was rolled back (%s); trying again (%d of %d)", what, why, attempt + 1,
                            TRANSACTION_ATTEMPTS)
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading (SQLAlchemy begins a transaction on first use, rolled back at the end)."""
        with self._connection() as conn:
            yield conn

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise StoreError(
                f"cannot open the store at {self.display_url}: {exc.orig}. Check HVC_DATABASE__URL "
                "(or `url` under [database] in hvc.toml), that the server is running and the file's folder is writable."
            ) from None
        with conn:
            try:
                yield conn
            except UnicodeEncodeError as exc:
                # Bytes that are not UTF-8 in an argument arrive as lone surrogates, which no database can store.
                raise InputError(
                    f"the text {excerpt(exc.object)} is not valid Unicode (bytes that are not UTF-8, or a lone "
                    "surrogate): type it again in a UTF-8 terminal"
                ) from None

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before the first upgrade)."""
        with self.connect() as conn:
            return current_revision(conn)

    def upgrade(self, revision: str = "head") -> str | None:
        """Run the migrations up to ``revision``; returns the revision now current."""
        from hv_connector.store.migrate import upgrade

        with self.begin() as conn:
            return upgrade(conn, revision)

    def require_current(self) -> None:
        """Raise :class:`StoreError` naming the fix when the schema is not the newest."""
        current, head = self.revision(), head_revision()
        if current != head:
            raise StoreError(
                f"the store at {self.display_url} is at schema revision {current or 'none'}, "
                f"this hv-connector needs {head}: run `hvc db upgrade`"
            )

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
