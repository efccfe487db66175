"""The store's tables, one module per pipeline, all on one :data:`metadata`.

- :mod:`.people` — schools, staff and the pupils' background (filled by sync);
- :mod:`.visits` — visits and what happens to them;
- :mod:`.outbox` — the CPOMS outbox;
- :mod:`.audit` — the tamper-evident audit log;
- :mod:`.sync` — sync cursors, runs and quarantine;
- :mod:`.watch` — escalations, notifications and heartbeats.

Most code imports tables from :mod:`hv_connector.store.schema`, which gathers
them all. A command that must start fast (``hvc status``) imports only the
modules it reads, so it does not build the tables it never touches. Anything
that walks :data:`metadata` (Alembic, tests creating the schema) imports
:mod:`~hv_connector.store.schema` first, so every table is on it.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so migrations can alter them on SQLite (batch mode) and PostgreSQL alike."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def school_id_column() -> Column[str]:
    """The ``school_id`` column everything that belongs to a school carries."""
    return Column("school_id", String, nullable=False)
