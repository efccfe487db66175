"""Drills: run a school's check-in plan and escalation chain against a simulated clock.

Lone-working guidance asks schools to test their procedure regularly. A drill
builds a visit that goes out now and is never heard from again (or, with
``code_word=True``, whose staff use the code word ten minutes in), runs the
pure schedule from sign-out until the chain runs out, and lists each event:
when it would fire, who it reaches (roles, and the named staff from the
directory) and what they read. Nothing is sent and nothing is written except
one ``watch.drill`` audit entry saying the drill was run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hv_connector.clock import utc
from hv_connector.models import CheckIn, PupilRef, StaffMember, Visit
from hv_connector.store import audit
from hv_connector.watch.notify import Recipient
from hv_connector.watch.schedule import DueEvent, Fired, assess, wall
from hv_connector.watch.store import ACTOR
from hv_connector.watch.tick import Watch

MAX_EVENTS = 100
"""A chain longer than this is a plugin bug; the drill stops rather than loop."""


@dataclass(frozen=True)
class DrillStep:
    """One event the drill would have fired."""

    at: datetime
    event: DueEvent
    reaches: tuple[Recipient, ...]

    def as_json(self) -> dict[str, object]:
        return {"at": self.at.isoformat(), "local": wall(self.at), "kind": self.event.kind,
                "step": self.event.step_index, "who": list(self.event.who), "text": self.event.text,
                "reaches": [{"name": r.name, "roles": list(r.roles), "mobile": r.mobile, "email": r.email}
                            for r in self.reaches]}


DRILL_STAFF = (StaffMember(id="drill-visitor-1", name="Visitor One (drill)", mobile="07700 900998"),
               StaffMember(id="drill-visitor-2", name="Visitor Two (drill)", mobile="07700 900999"))
"""Stand-ins for the visiting staff: a drill reaches the people at school, not anyone out."""

DRILL_AUTHORISER = StaffMember(id="drill-authoriser", name="Authoriser (drill)", roles=("headteacher", "dsl", "slt"))
"""Who the drill visit says authorised it: a stand-in, so no real person's name is on a rehearsal."""


def drill_visit(school: str, start: datetime) -> Visit:
    """A well-planned visit by two stand-in staff, signed out at ``start``, starting ten minutes later, due back in an hour.

    Every safety step is recorded as done, so the school's plan and chain are
    the ones an ordinary daytime visit gets.
    """
    planned = start + timedelta(minutes=10)
    return Visit(
        id=f"drill-{school}", school=school, pupil=PupilRef(name="Drill", known_in_mis=False), reason="drill",
        purpose="Drill: no real visit.", address="(drill)", planned_start=planned,
        expected_return=planned + timedelta(hours=1), staff=DRILL_STAFF, parents_informed=True,
        parent_agreement=True, line_manager_informed=True, logged_with_office=True, phones_given_to_office=True,
        background_shown_at=planned - timedelta(hours=2), authorised_by=DRILL_AUTHORISER, signed_out_at=start,
    )


def simulate(watch: Watch, school: str, start: datetime, *, code_word: bool = False) -> list[DrillStep]:
    """Every event the school's plan and chain would fire for a visit out from ``start`` that never comes back."""
    visit = drill_visit(school, start)
    if code_word:
        visit = visit.model_copy(update={"check_ins": (CheckIn(at=start + timedelta(minutes=20), kind="staff-call",
                                                               code_word_used=True),)})
    plan, chain = watch.plan_and_chain(school, visit)
    fired: dict[str, Fired] = {}
    steps: list[DrillStep] = []
    now = utc(start)
    while len(steps) < MAX_EVENTS:
        result = assess(visit, plan, chain, fired, now)
        for event in result.events:
            fired[event.key] = Fired.of(event)
            steps.append(DrillStep(now, event, watch.recipients(school, visit.staff, event.who)))
        for closure in result.closures:
            fired[closure.key] = fired[closure.key].closed(now)
        if result.next_due is None:
            break
        now = result.next_due
    return steps


def run_drill(watch: Watch, school: str, start: datetime, *, by: str, code_word: bool = False) -> list[DrillStep]:
    """:func:`simulate`, and one audit entry saying the drill was run (the only thing written)."""
    steps = simulate(watch, school, start, code_word=code_word)
    with watch.store.begin() as conn:
        audit.append(conn, actor=by or ACTOR, action="watch.drill", school_id=school, at=utc(watch.clock.now()),
                     detail={"simulated_from": utc(start).isoformat(), "code_word": code_word, "events": len(steps),
                             "last": steps[-1].event.kind if steps else None})
    return steps
