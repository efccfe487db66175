"""Backups of an SQLite store: a consistent copy of the live file, and a restore that checks the audit chain.

The copy uses SQLite's online backup API under one read transaction, so writers carry on (WAL) and
the copy is the store as it was at one moment. PostgreSQL stores are backed up with ``pg_dump``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from hv_connector.errors import StoreError
from hv_connector.store import audit
from hv_connector.store.engine import SQLITE_BUSY_TIMEOUT_SECONDS, Store, create_private_file, create_store_engine
from hv_connector.store.schema import visits

POSTGRES_HOW = ("the store is PostgreSQL: back it up with `pg_dump --format=custom --file=hvc-$(date +%F).dump "
                "DBNAME` as its owner (cron or a systemd timer), and restore with `pg_restore --clean --dbname "
                "DBNAME FILE`; then run `hvc audit verify`")
"""What ``hvc db backup`` and ``hvc db restore`` say for a PostgreSQL store."""

PREFIX = "hvc-"
"""A backup's file name: ``hvc-20261204T023000Z.db`` (what :func:`prune` may delete)."""


@dataclass(frozen=True)
class Checked:
    """What a backup holds, and whether its audit chain is whole.

    :param visits: how many visits it holds.
    :param entries: how many audit entries.
    :param broken_at: the seq of the first broken audit entry, or ``None``.
    """

    visits: int
    entries: int
    broken_at: int | None


def default_backup(store_file: Path, now: datetime) -> Path:
    """``backups/hvc-<UTC time>.db`` beside the store."""
    return store_file.parent / "backups" / f"{PREFIX}{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.db"


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as src, \
            sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as dst:
        src.backup(dst)  # every page in one step: one read transaction, one moment
    src.close()
    dst.close()


def backup(store_file: Path, out: Path) -> Checked:
    """Copy the live store at ``store_file`` to ``out`` (mode 0600), and check the copy.

    :raises StoreError: ``out`` exists already (a backup is never overwritten).
    """
    if out.exists():
        raise StoreError(f"{out} exists already: name another file with --out (backups are never overwritten)")
    part = out.with_name(out.name + ".part")
    part.unlink(missing_ok=True)
    create_private_file(part)
    _copy(store_file, part)
    os.replace(part, out)
    return check(out)


def check(path: Path) -> Checked:
    """What the SQLite file ``path`` holds, and where its audit chain breaks (if it does)."""
    with Store(create_store_engine(f"sqlite:///{path}")) as store, store.connect() as conn:
        broken = audit.verify(conn)
        entries, _ = audit.tip(conn)
        count = conn.execute(select(func.count()).select_from(visits)).scalar_one()
    return Checked(visits=count, entries=entries, broken_at=broken)


def restore(backup_file: Path, store_file: Path) -> Checked:
    """Copy ``backup_file`` over the store at ``store_file``, once its audit chain checks.

    :raises StoreError: the file is missing, or its audit chain is broken (nothing is changed).
    """
    if not backup_file.is_file():
        raise StoreError(f"there is no backup at {backup_file}: `ls` the backups folder for the one to restore")
    checked = check(backup_file)
    if checked.broken_at is not None:
        raise StoreError(f"{backup_file}'s audit log is broken at entry {checked.broken_at}: it was not restored; "
                         "try an earlier backup, and keep this one for the DSL")
    create_private_file(store_file)
    _copy(backup_file, store_file)
    return checked


def prune(folder: Path, keep_days: int, now: float | None = None) -> list[Path]:
    """Delete the backups (``hvc-*.db``) in ``folder`` older than ``keep_days``; the ones deleted."""
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    old = [path for path in sorted(folder.glob(f"{PREFIX}*.db")) if path.stat().st_mtime < cutoff]
    for path in old:
        path.unlink()
    return old
