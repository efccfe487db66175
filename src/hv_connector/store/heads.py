"""The schema revision the code expects and the one a database is at, read without importing Alembic.

Every ``Store.open`` compares the two; importing Alembic to do it cost more
than the rest of a cron job's ``hvc status``. The migration files declare
``revision`` and ``down_revision`` as plain strings, so the head is the one
revision no other revises. Anything unusual (a merge, two heads) is left to
Alembic, which gives the same answer or the error that says how to fix it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
"""The folder holding ``env.py``, ``script.py.mako`` and ``versions/``."""

VERSION_TABLE = "alembic_version"
"""Where Alembic records the revision a database is at."""

_DECLARED = re.compile(r"""^(revision|down_revision)\b[^=\n]*=\s*(?:['"]([^'"]+)['"]|None)\s*$""", re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest revision the installed hv-connector knows."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _DECLARED.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else revised).add(value)
    heads = revisions - revised
    if len(heads) != 1:
        from hv_connector.store.migrate import head_revision as alembic_head

        return alembic_head()
    return heads.pop()


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database, or ``None`` before its first upgrade."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one_or_none()
