"""Many rows into one table at once, handed to the database driver as plain tuples.

``conn.execute(insert(table), rows)`` does per-row work in SQLAlchemy (a
parameter dict built per row and per column) that costs more than the
database's own insert. :func:`insert_rows` converts each value with the
column's own type (the same conversion SQLAlchemy applies: JSON text, UTC
times, ISO dates on SQLite) and sends one ``executemany``. For the big writes
only: a sync's pupils and their background, the proposals a refresh opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Convert = Callable[[Any], Any] | None
_UNSEEN = object()


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, each a column of ``table``) in the caller's transaction."""
    if not rows:
        return
    keys = tuple(rows[0])
    converters = _converters(table, keys, conn.dialect)
    values = itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
    converted = [i for i, convert in enumerate(converters) if convert is not None]
    if converted:
        # A value repeated down a column (the run's time in every row, None) is converted once.
        last: list[Any] = [_UNSEEN] * len(keys)
        done: list[Any] = [None] * len(keys)
        params: list[Any] = []
        for row in rows:
            value = list(values(row))
            for i in converted:
                item = value[i]
                if item is not last[i]:
                    last[i], done[i] = item, converters[i](item)  # type: ignore[misc] # indexes with a converter
                value[i] = done[i]
            params.append(tuple(value))
    else:
        params = [values(row) for row in rows]
    conn.exec_driver_sql(_statement(table, keys, conn.dialect), params)


def placeholder(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


@cache
def _statement(table: Table, keys: tuple[str, ...], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(key) for key in keys)}) "
            f"VALUES ({', '.join(placeholder(dialect) for _ in keys)})")


@cache
def _converters(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[Convert, ...]:
    """Each column's conversion to what the driver takes (``None``: the value goes as it is)."""
    return tuple(table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys)
