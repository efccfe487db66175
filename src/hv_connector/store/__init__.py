"""The store: SQLAlchemy Core tables (:mod:`.tables`, one module per pipeline, all gathered in :mod:`.schema`),
opening and upgrading (:mod:`.engine`, :mod:`.migrate`).

``Store.open(url)`` gives a :class:`~hv_connector.store.engine.Store`; its
``begin()`` is a write transaction and ``connect()`` a read.
"""

from hv_connector.store.engine import Store, default_database_path, default_database_url

__all__ = ["Store", "default_database_path", "default_database_url"]
