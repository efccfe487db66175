"""The school's own restrictions on a pupil: what no MIS feed carries (no-contact orders, court-order terms).

Entered and removed by the DSL team only, each change audited in the caller's transaction; the briefing
(:func:`hv_connector.read.briefing.restrictions`) shows the standing ones. Sync never touches them, and
they stay with the pupil when the school changes MIS (the pupil keeps our key).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from hv_connector.errors import InputError, RefusedError, excerpt
from hv_connector.models import StaffMember
from hv_connector.read.briefing import RESTRICTION_KINDS, Restriction, restrictions
from hv_connector.store import Store, audit
from hv_connector.store.schema import pupil_restrictions, pupils

DSL_TEAM = frozenset({"dsl", "deputy-dsl"})
"""Roles that may add or remove a restriction."""

MAX_TEXT = 2000


def _check(member: StaffMember, school_id: str) -> None:
    if not member.has_any(DSL_TEAM):
        raise RefusedError(f"only the DSL team ({', '.join(sorted(DSL_TEAM))}) may change {school_id}'s restrictions; "
                           f"{member.id} has roles {', '.join(member.roles) or 'none'}: ask the DSL")


def add(store: Store, school_id: str, mis_id: str, *, kind: str, text: str, person: str | None, by: StaffMember,
        at: datetime) -> Restriction:
    """Record a restriction on pupil ``mis_id`` (our key) and audit it; the DSL team only."""
    _check(by, school_id)
    if kind not in RESTRICTION_KINDS:
        raise InputError(f"--kind: {excerpt(kind)} is not one of {', '.join(RESTRICTION_KINDS)}")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InputError(f"the restriction's text must be 1 to {MAX_TEXT} characters: say what staff must do")
    person = (person or "").strip() or None
    with store.begin() as conn:
        if conn.execute(select(pupils.c.mis_id).where(pupils.c.school_id == school_id,
                                                      pupils.c.mis_id == mis_id)).first() is None:
            raise InputError(f"no pupil {excerpt(mis_id)} in school {school_id}: check the id (`hvc pupil show`)")
        keys = conn.execute(insert(pupil_restrictions).values(
            school_id=school_id, pupil_mis_id=mis_id, kind=kind, person=person, text=text, added_by=by.id,
            added_at=at)).inserted_primary_key
        new_id = int(keys[0]) if keys else 0
        audit.append(conn, actor=by.id, action="pupil.restriction.add", school_id=school_id, at=at,
                     detail={"pupil": mis_id, "restriction": new_id, "kind": kind, "person": person, "text": text})
        return next(r for r in restrictions(conn, school_id, mis_id) if r.id == new_id)


def remove(store: Store, school_id: str, restriction_id: int, *, reason: str, by: StaffMember,
           at: datetime) -> None:
    """Lift a restriction (the row stays, marked removed) and audit it, with the reason; the DSL team only."""
    _check(by, school_id)
    if not reason.strip():
        raise InputError("--reason: say why the restriction no longer applies (it goes in the audit log)")
    table = pupil_restrictions
    with store.begin() as conn:
        row = conn.execute(select(table.c.pupil_mis_id).where(
            table.c.id == restriction_id, table.c.school_id == school_id, table.c.removed_at.is_(None))).first()
        if row is None:
            raise InputError(f"no standing restriction #{restriction_id} in school {school_id}: "
                             "`hvc pupil restrict list PUPIL` shows them")
        conn.execute(update(table).where(table.c.id == restriction_id).values(removed_by=by.id, removed_at=at))
        audit.append(conn, actor=by.id, action="pupil.restriction.remove", school_id=school_id, at=at,
                     detail={"pupil": row.pupil_mis_id, "restriction": restriction_id, "reason": reason.strip()})
