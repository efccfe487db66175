"""Many rows into one table at once, handed to the database driver as plain tuples.

``conn.execute(insert(table), rows)`` does per-row work in SQLAlchemy (a
parameter dict built per row and per column) that costs more than the
database's own insert. :func:`insert_rows` converts each value with the
column's own type (the same conversion SQLAlchemy applies: JSON text, UTC
times, ISO dates on SQLite) and sends one ``executemany``. For the big writes
only: a sync's pupils and their background, the proposals a refresh opens, the
watch's tick (its events, their visits' events, its queue and the audit entries).

A row that clashes on a unique key can be skipped or update the row it clashes
with (``ON CONFLICT``, the same text on SQLite and PostgreSQL); the rows written
can be read back (``RETURNING``: then the rows go a page at a time in one
statement each, as the drivers return nothing from ``executemany``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Convert = Callable[[Any], Any] | None
_UNSEEN = object()
_PARAMETERS = 30_000
"""Most parameters in one statement (SQLite allows 32,766; PostgreSQL 65,535)."""
IN_CHUNK = 500
"""Most values in one ``IN (...)`` list: well under every backend's limit on bound values."""
_T = TypeVar("_T")


def in_chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` in slices of at most :data:`IN_CHUNK`, in order: one ``IN (...)`` statement each."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str] = (),
                update: Sequence[str] = (), returning: Sequence[str] = (),
                ready: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts with the same keys, each a column of ``table``) in the caller's transaction.

    :param ready: columns whose values are given as the driver takes them, not converted: JSON already
        written as text (a JSON column on SQLite and PostgreSQL alike takes its text; ``"null"`` for ``None``).

    :param conflict: the columns of a unique key a row may clash on: such a row is skipped (or, with ``update``,
        sets those columns of the row it clashes with to its own).
    :param update: see ``conflict``.
    :param returning: columns to read back from each row written (a skipped one is not); in no set order.
    :returns: the ``returning`` values of each row written (nothing when no columns are asked for).
    """
    if not rows:
        return []
    keys = tuple(rows[0])
    converters = _converters(table, keys, conn.dialect)
    if ready:
        converters = tuple(None if key in ready else convert for key, convert in zip(keys, converters, strict=True))
    params = _parameters(rows, keys, converters)
    if not returning:
        conn.exec_driver_sql(_statement(table, keys, conn.dialect, tuple(conflict), tuple(update)), params)
        return []
    page = max(1, _PARAMETERS // len(keys))
    read = _readers(table, tuple(returning), conn.dialect)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(params), page):
        chunk = params[start:start + page]
        text = _statement(table, keys, conn.dialect, tuple(conflict), tuple(update), len(chunk), tuple(returning))
        found += [tuple(value if convert is None else convert(value) for convert, value in zip(read, values, strict=True))
                  for values in conn.exec_driver_sql(text, tuple(item for row in chunk for item in row))]
    return found


def placeholder(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _parameters(rows: Sequence[dict[str, Any]], keys: tuple[str, ...], converters: tuple[Convert, ...]) -> list[Any]:
    """Each row's values in ``keys`` order, converted for the driver."""
    values = itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
    converted = [i for i, convert in enumerate(converters) if convert is not None]
    if not converted:
        return [values(row) for row in rows]
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
    return params


def _statement(table: Table, keys: tuple[str, ...], dialect: Dialect, conflict: tuple[str, ...] = (),
               update: tuple[str, ...] = (), count: int = 1, returning: tuple[str, ...] = ()) -> str:
    """The INSERT of ``count`` rows of ``keys`` (see :func:`insert_rows` for the rest), in the driver's paramstyle."""
    head, row, tail = _parts(table, keys, dialect, conflict, update, returning)
    return head + ", ".join(row for _ in range(count)) + tail


@cache
def _parts(table: Table, keys: tuple[str, ...], dialect: Dialect, conflict: tuple[str, ...],
           update: tuple[str, ...], returning: tuple[str, ...]) -> tuple[str, str, str]:
    """The statement's text before its rows, one row's placeholders, and the text after them."""
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(key) for key in keys)}) VALUES "
    tail = ""
    if conflict:
        tail += f" ON CONFLICT ({', '.join(quote(key) for key in conflict)}) DO "
        tail += ("UPDATE SET " + ", ".join(f"{quote(key)} = excluded.{quote(key)}" for key in update)
                 if update else "NOTHING")
    if returning:
        tail += f" RETURNING {', '.join(quote(key) for key in returning)}"
    return head, f"({', '.join(placeholder(dialect) for _ in keys)})", tail


@cache
def _converters(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[Convert, ...]:
    """Each column's conversion to what the driver takes (``None``: the value goes as it is)."""
    return tuple(table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys)


@cache
def _readers(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[Convert, ...]:
    """Each column's conversion from what the driver gives (``None``: the value is taken as it is)."""
    return tuple(table.c[key].type.dialect_impl(dialect).result_processor(dialect, None) for key in keys)
