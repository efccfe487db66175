"""The access log: who was shown a pupil's background, a visit or an outbox record, when, and from where.

Every command and dashboard screen that shows such a record calls :func:`record` once for all it shows
(one multi-row insert in a short transaction of its own, never one per row), so a screen of fifty visits
costs one statement. :func:`for_pupil` answers the DSL's question "who has looked at this child's record":
reads of the pupil, of their visits and of those visits' outbox records.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, String, and_, cast, insert, or_, select

from hv_connector.store.schema import access_log, outbox, visits

Kind = Literal["pupil", "visit", "outbox"]


@dataclass(frozen=True)
class Reader:
    """Who is reading, from where, and through what (``hvc pupil show``, ``dashboard: visit``)."""

    actor: str
    origin: str
    via: str


@dataclass(frozen=True)
class Seen:
    """One record shown: its kind, id, and school (and the pupil, when the record is the pupil)."""

    kind: Kind
    record_id: str
    school_id: str | None
    pupil_mis_id: str | None = None


@dataclass(frozen=True)
class Access:
    """One access entry, as read back."""

    at: datetime
    actor: str
    origin: str
    via: str
    kind: str
    record_id: str
    school_id: str | None


def reader(via: str, by: str | None = None) -> Reader:
    """The person reading through ``via``: ``by`` (their ``--as`` staff id) or the OS login, and where they are.

    Where: the SSH client's address (``SSH_CONNECTION``), else the local host.
    """
    actor = by or f"os:{getpass.getuser()}"
    ssh = os.environ.get("SSH_CONNECTION", "").split()
    origin = f"ssh from {ssh[0]}" if ssh else f"local on {os.uname().nodename}"
    return Reader(actor, origin, via)


def record(conn: Connection, who: Reader, seen: Iterable[Seen], at: datetime) -> int:
    """Write one access entry per record in ``seen``, in one statement, in the caller's transaction."""
    rows = [{"at": at, "actor": who.actor, "origin": who.origin, "via": who.via, "kind": s.kind,
             "record_id": s.record_id, "school_id": s.school_id, "pupil_mis_id": s.pupil_mis_id} for s in seen]
    if rows:
        conn.execute(insert(access_log), rows)
    return len(rows)


def for_pupil(conn: Connection, school_id: str, mis_id: str) -> list[Access]:
    """Every access to the pupil, their visits and those visits' outbox records, in the order written."""
    their_visits = select(visits.c.id).where(visits.c.school_id == school_id, visits.c.pupil_mis_id == mis_id)
    their_outbox = select(cast(outbox.c.id, String)).where(outbox.c.visit_id.in_(their_visits))
    about = or_(
        and_(access_log.c.kind == "pupil", access_log.c.school_id == school_id, access_log.c.pupil_mis_id == mis_id),
        and_(access_log.c.kind == "visit", access_log.c.record_id.in_(their_visits)),
        and_(access_log.c.kind == "outbox", access_log.c.record_id.in_(their_outbox)),
    )
    rows = conn.execute(select(access_log).where(about).order_by(access_log.c.id)).mappings()
    return [Access(r["at"], r["actor"], r["origin"], r["via"], r["kind"], r["record_id"], r["school_id"]) for r in rows]
