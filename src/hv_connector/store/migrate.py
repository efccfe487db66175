"""Alembic, driven from code: no ``alembic.ini`` is needed at run time.

:func:`upgrade` runs in the caller's transaction. On SQLite that transaction
holds the write lock (``BEGIN IMMEDIATE``) and on PostgreSQL it takes an
advisory lock first, so two processes opening a fresh store at once upgrade it
once: the second waits, then finds the schema current.
"""

from __future__ import annotations

import io
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from hv_connector.store.heads import MIGRATIONS, current_revision

UPGRADE_LOCK_KEY = 0x6876_6330  # "hvc0": one advisory lock id for every hv-connector upgrade


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, optionally bound to ``conn``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


@cache
def head_revision() -> str:
    """The newest revision the installed hv-connector knows."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); chain new revisions on one")
    return heads[0]


def upgrade(conn: Connection, revision: str = "head") -> str | None:
    """Upgrade the database on ``conn`` (in its open transaction) to ``revision``."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
    command.upgrade(alembic_config(conn), revision)
    return current_revision(conn)


def upgrade_sql(dialect: str = "postgresql", start: str | None = None) -> str:
    """The SQL that upgrades a ``dialect`` database from ``start`` (default: empty) to the newest schema.

    For a DBA who reviews and runs schema changes by hand (``hvc db upgrade --sql``).
    """
    buffer = io.StringIO()
    config = alembic_config()
    config.output_buffer = buffer
    config.attributes["dialect"] = dialect
    command.upgrade(config, f"{start}:head" if start else "head", sql=True)
    return buffer.getvalue()
