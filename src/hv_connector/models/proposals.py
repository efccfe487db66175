"""What should propose a visit from attendance: a school's triggers, as its plugin declares them.

A trigger is data, not code: it names one attendance *measure* read from the register, the threshold it
must reach (``at least`` or ``below``), the clause or guidance it comes from, and what it proposes (a
visit with its reason and urgency, or notifying the local authority). Keeping it declarative lets the
core evaluate every trigger of a school in one pass over the register, lets a school change a threshold
in its configuration (``[schools.ID.triggers]``) and lets ``hvc propose triggers`` show them all.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from hv_connector.models.common import Frozen


class Measure(StrEnum):
    """An attendance figure a trigger compares with its threshold (see :mod:`hv_connector.attendance.triggers`)."""

    ABSENCE_YEAR = "absence-year"
    """Absent sessions as a percentage of possible ones over the school year so far."""
    ABSENCE_4_WEEKS = "absence-4-weeks"
    """Absent sessions as a percentage of possible ones over the last 4 weeks."""
    ATTENDANCE_3_MONTHS = "attendance-3-months"
    """Sessions attended as a percentage of possible ones over the last 3 months."""
    UNAUTHORISED_10_WEEKS = "unauthorised-10-weeks"
    """Unauthorised absent sessions in the last 10 school weeks."""
    UNAUTHORISED_4_WEEKS = "unauthorised-4-weeks"
    """Unauthorised absent sessions in the last 4 weeks."""
    DAYS_ABSENT_UNEXPLAINED = "days-absent-unexplained"
    """School days in a row, up to the latest marked, on which every session was an unauthorised absence
    (no reason accepted: the school has heard nothing it could authorise)."""
    DAYS_ABSENT = "days-absent"
    """School days in a row, up to the latest marked, on which every session was an absence of any kind."""
    UNAUTHORISED_SINCE_AGREEMENT = "unauthorised-since-agreement"
    """Unauthorised absent sessions since the pupil's last reported visit that recorded agreements
    (none: no such visit, and the trigger cannot be met)."""


class Proposes(StrEnum):
    """What meeting a trigger proposes."""

    VISIT = "visit"
    NOTIFY_LOCAL_AUTHORITY = "notify-local-authority"
    """Not a visit: tell the local authority, so legal proceedings can be considered."""


class Urgency(StrEnum):
    """How soon the DSL team should look at a proposal; the worklist is sorted by it."""

    URGENT = "urgent"
    SOON = "soon"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Urgency).index(self)


DECIDERS: tuple[str, ...] = ("dsl", "deputy-dsl", "headteacher", "attendance-officer")
"""Who decides a proposal when the trigger does not say: the safeguarding and attendance leads."""


class AttendanceTrigger(Frozen):
    """One circumstance in a school's attendance that proposes an action, and where it comes from."""

    id: str = Field(pattern=r"^[a-z0-9-]+\.[a-z0-9.-]+$")
    """``plugin.name``, e.g. ``core.persistent-absence`` or ``potton.below-70``."""
    title: str = Field(min_length=1)
    """What the DSL team reads on the worklist, e.g. "Persistent absence"."""
    clause: str = Field(min_length=1)
    """The policy section or national guidance it comes from, by name."""
    measure: Measure
    threshold: float = Field(ge=0)
    below: bool = False
    """Met when the measure is *below* the threshold (attendance); otherwise when it is at least it (absence)."""
    option: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")
    """The name under ``[schools.ID.triggers]`` that changes the threshold (``None``: fixed)."""
    proposes: Proposes = Proposes.VISIT
    reason: str | None = None
    """The visit reason code to request (when the school accepts it; else its first attendance reason)."""
    urgency: Urgency = Urgency.ROUTINE
    min_possible: int = Field(default=1, ge=0)
    """Possible sessions the measure's window must hold before a percentage means anything."""
    deciders: tuple[str, ...] = DECIDERS
    """The roles that may accept or dismiss what it proposes."""

    def with_threshold(self, threshold: float) -> AttendanceTrigger:
        """The same trigger at another threshold (a school's ``[schools.ID.triggers]`` option)."""
        return self.model_copy(update={"threshold": threshold})


CONCERN_ABSENCE = 15.0
"""Absence over the last 4 weeks (%) at which a school's "attendance is a concern" trigger proposes a visit."""
REFUSAL_DAYS = 5
"""Whole school days absent in a row at which a school's "refusing to come in" trigger proposes a visit."""


def concern_and_refusal(school: str, clause: str, *, concern_reason: str, refusal_reason: str,
                        deciders: tuple[str, ...] = DECIDERS) -> tuple[AttendanceTrigger, AttendanceTrigger]:
    """The pair of triggers of a policy that visits "a pupil whose attendance is a concern, or who is refusing to
    come in": absence over the last 4 weeks, and whole days absent in a row (a register cannot tell refusal from
    other absence, so the title says "possible refusal" and the DSL team judges).

    :param school: the plugin's prefix for the ids (``washwood-heath`` gives ``washwood-heath.attendance-concern``).
    :param clause: where the policy says it, by section name.
    """
    return (
        AttendanceTrigger(id=f"{school}.attendance-concern", title="Attendance is a concern (last 4 weeks)",
                          clause=clause, measure=Measure.ABSENCE_4_WEEKS, threshold=CONCERN_ABSENCE,
                          option="concern_absence_percent", reason=concern_reason, deciders=deciders),
        AttendanceTrigger(id=f"{school}.refusing", title="Absent every day lately (possible refusal to come in)",
                          clause=clause, measure=Measure.DAYS_ABSENT, threshold=REFUSAL_DAYS, option="refusal_days",
                          reason=refusal_reason, urgency=Urgency.SOON, deciders=deciders),
    )
