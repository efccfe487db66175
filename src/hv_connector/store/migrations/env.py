"""Alembic environment for hv-connector.

Run from :mod:`hv_connector.store.migrate` with a connection in
``config.attributes["connection"]``, or offline (``hvc db upgrade --sql``) to
print the SQL for a DBA to review and run. For developers writing a revision,
``alembic -c src/hv_connector/store/migrations/alembic.ini revision -m "..."``
works too: it opens ``HVC_DATABASE__URL`` (default: the embedded SQLite file).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from hv_connector.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline(dialect: str) -> None:
    context.configure(
        dialect_name=dialect,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=dialect == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode():
    _run_offline(context.config.attributes.get("dialect", "postgresql"))
elif _connection is not None:
    _run(_connection)
else:
    from hv_connector.store.engine import create_store_engine

    _engine = create_store_engine(os.environ.get("HVC_DATABASE__URL"))
    with _engine.connect() as _conn:
        _run(_conn)
        _conn.commit()
    _engine.dispose()
