"""Alert-set hashes: a pupil's alerts (court orders, no-contact orders …), hashed whole, for the audit log to carry.

A sync that changes a pupil's alerts writes one ``pupil.alerts-synced`` entry about them whose ``records``
is ``{"alerts A100": hash}``: the hash of the set the sync left (:func:`set_hash`; the order of the rows and
their ids do not count, the kinds and texts do, so the alert text itself never enters the log). ``hvc audit
verify`` takes each pupil's latest such hash and hashes their alerts as they are now (:func:`compare`): an
alert edited, deleted or forged since is named, with the entry it no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hv_connector.store.bulk import in_chunks
from hv_connector.store.hashing import digest
from hv_connector.store.schema import audit, pupil_alerts

PREFIX = "alerts "
"""How an alert set is named in an entry's ``records``: ``alerts A100``."""
ACTION = "pupil.alerts-synced"
"""The action of the entry a sync writes about a pupil whose alerts it changed."""

Pupil = tuple[str, str]
"""(school id, pupil MIS id)."""
Alert = tuple[str | None, str | None]
"""(kind, text)."""


@dataclass(frozen=True)
class AlertSetProblem:
    """A pupil whose alerts no longer match what the audit log recorded."""

    school_id: str
    pupil_mis_id: str
    seq: int | None
    """The latest entry about the pupil's alerts (``None``: no entry has them)."""

    def __str__(self) -> str:
        if self.seq is None:
            return (f"Pupil {self.pupil_mis_id} ({self.school_id}) has alerts no audit entry records: forged, or "
                    "last synced before this version (once you have checked them, run `hvc audit seal`)")
        return (f"Pupil {self.pupil_mis_id} ({self.school_id}): alert set changed outside hv-connector since "
                f"audit entry #{self.seq}")


def set_hash(alerts: Iterable[Alert]) -> str:
    """The hash of a pupil's alerts, given as (kind, text) pairs in any order."""
    return digest(sorted([kind or "", text or ""] for kind, text in alerts))


EMPTY = set_hash(())
"""The hash of no alerts at all (a pupil whose alerts were all removed, or erased by retention)."""


def record(pupil_mis_id: str, hashed: str) -> dict[str, str]:
    """The ``records`` of an entry vouching for a pupil's alert set."""
    return {PREFIX + pupil_mis_id: hashed}


def recorded_in(school_id: str | None, records: Mapping[str, str]) -> Iterable[tuple[Pupil, str]]:
    """The alert sets an entry's ``records`` vouch for: ((school, pupil), hash) each."""
    if school_id is None:
        return ()
    return (((school_id, key[len(PREFIX):]), hashed) for key, hashed in records.items() if key.startswith(PREFIX))


def held(conn: Connection, school_id: str, pupil_ids: Iterable[str]) -> dict[str, list[Alert]]:
    """Pupil MIS id → their alerts as the store holds them now, (kind, text) each (an empty list for none)."""
    wanted = sorted(set(pupil_ids))
    found: dict[str, list[Alert]] = {pupil: [] for pupil in wanted}
    a = pupil_alerts.c
    for chunk in in_chunks(wanted):
        rows = conn.execute(select(a.pupil_mis_id, a.kind, a.text)
                            .where(a.school_id == school_id, a.pupil_mis_id.in_(chunk)))
        for pupil, kind, text in rows:
            found[pupil].append((kind, text))
    return found


def current(conn: Connection, school_id: str, pupil_ids: Iterable[str]) -> dict[str, str]:
    """Pupil MIS id → the hash of their alerts as the store holds them now (:data:`EMPTY` for none)."""
    return {pupil: set_hash(alerts) for pupil, alerts in held(conn, school_id, pupil_ids).items()}


def compare(conn: Connection, recorded: Mapping[Pupil, tuple[int, str]]) -> list[AlertSetProblem]:
    """Every pupil whose alerts differ from the latest hash the log ``recorded`` ((seq, hash) per pupil), and every
    pupil with alerts the log has no hash for."""
    schools: dict[str, list[str]] = {}
    for school_id, pupil in recorded:
        schools.setdefault(school_id, []).append(pupil)
    problems = [AlertSetProblem(school_id, pupil, recorded[(school_id, pupil)][0])
                for school_id, pupils in sorted(schools.items())
                for pupil, hashed in sorted(current(conn, school_id, pupils).items())
                if hashed != recorded[(school_id, pupil)][1]]
    return problems + [AlertSetProblem(school_id, pupil, None) for school_id, pupil in unrecorded(conn, recorded)]


def unrecorded(conn: Connection, recorded: Iterable[Pupil]) -> list[Pupil]:
    """The pupils with alerts that no audit entry has a hash of (forged, or last synced before alert hashes)."""
    known = set(recorded)
    held = conn.execute(select(pupil_alerts.c.school_id, pupil_alerts.c.pupil_mis_id).distinct()
                        .order_by(pupil_alerts.c.school_id, pupil_alerts.c.pupil_mis_id))
    return [(school_id, pupil) for school_id, pupil in held if (school_id, pupil) not in known]


def entries_about(conn: Connection, school_id: str, pupil_mis_id: str) -> list[int]:
    """The seqs of the audit entries that hold a hash of the pupil's alerts (their detail names the pupil)."""
    key = PREFIX + pupil_mis_id
    rows = conn.execute(select(audit.c.seq, audit.c.records).where(
        audit.c.school_id == school_id, audit.c.visit_id.is_(None), audit.c.records.is_not(None)))
    return [seq for seq, records in rows if key in (records or {})]
