"""Column types that behave the same on SQLite and PostgreSQL.

Migrations import these as well as :mod:`hv_connector.store.schema`, so they
must stay backward compatible: change a type by adding a new one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class JsonDocument(TypeDecorator[Any]):
    """A JSON document: ``jsonb`` on PostgreSQL (indexable), JSON text on SQLite.

    Chosen per dialect rather than with ``with_variant(JSONB())``: that needs the
    PostgreSQL dialect imported, a fifth of SQLAlchemy's import time, on every
    ``hvc`` start, SQLite ones included.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


Json = JsonDocument()
"""The column type of every JSON document in the store."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware moment, stored as UTC and read back as an aware UTC datetime.

    SQLite has no timezone type, so every value is converted to UTC before it
    is written; string comparison of the stored values then orders them in time.
    A naive datetime is refused: it could be an hour out across a clock change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=timezone.utc)
        return stored.astimezone(timezone.utc)
