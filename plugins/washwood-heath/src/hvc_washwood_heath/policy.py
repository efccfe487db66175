"""What Washwood Heath's policy document says, as data: identity, reasons, hours, roles, chain, risks,
the attendance that proposes a visit.

The rules (``rules.py``) and the hook answers (``__init__.py``) read from here.
"""

from __future__ import annotations

from datetime import time

from hv_connector.clock import local
from hv_connector.models import (
    AttendanceTrigger,
    EscalationStep,
    HazardTemplate,
    PolicyInfo,
    Reason,
    RiskTemplate,
    Visit,
    concern_and_refusal,
)

SCHOOL = "washwood-heath"

POLICY = PolicyInfo(
    school_id=SCHOOL,
    school_name="Washwood Heath Academy",
    policy_name="Home Visit Policy",
    source_document="washwood-heath.txt",
    policy_date=None,  # the document is undated
    review_by=None,  # and gives no review date
    phase="secondary",
)


def clause(section: str) -> str:
    """How a Washwood Heath rule cites the part of the policy it comes from."""
    return f"Washwood Heath policy — {section}"


REFERRED = "referred-family"

REASONS: tuple[Reason, ...] = (
    Reason(code="attendance", label="Attendance is a concern, or the student refuses to come in",
           tags=("attendance",)),
    Reason(code="excluded", label="Student who is excluded", tags=("exclusion",)),
    Reason(code="long-term-illness", label="Student absent through long-term illness", tags=("illness",)),
    Reason(code="parent-cannot-come-in", label="Parent/carer cannot come to school for a meeting", tags=("meeting",)),
    Reason(code=REFERRED, label="Family referred by another service (coordinated with that service)",
           tags=("welfare",)),
)

LATEST_START = time(16, 0)
"""The policy: no visit is arranged to start after 4.00pm (16:00 itself is allowed)."""
OFFICE_OPENS = time(8, 0)
"""The policy does not say when office hours begin; 08:00 is assumed (see the README)."""

LINE_MANAGER_ROLES: tuple[str, ...] = ("line-manager",)
LEADERSHIP_ROLES: tuple[str, ...] = ("slt", "headteacher")
"""The leadership team; the headteacher leads it."""


def out_of_hours(visit: Visit) -> bool:
    """Whether the visit starts outside office hours on the London clock (after 16:00, early, or at a weekend).

    Employees safety bars visits arranged *after* 4.00pm, so one arranged for 16:00 itself is in hours.
    """
    start = local(visit.planned_start)
    return start.weekday() >= 5 or not OFFICE_OPENS <= start.time() <= LATEST_START


ESCALATION: tuple[EscalationStep, ...] = (
    EscalationStep(who=("office-manager", "office"),
                   action="The office manager (or, if absent, someone else in the office) phones the staff's mobiles.",
                   wait_minutes=15),
    EscalationStep(who=("office-manager",), action="The office manager phones the student's home.", wait_minutes=15),
    EscalationStep(who=("slt",), action="Tell the relevant members of SLT, who decide what to do.", wait_minutes=15),
    EscalationStep(who=("slt",), action="A member of SLT calls the police.", wait_minutes=0, emergency=True),
)

RISK_TEMPLATE = RiskTemplate(
    hazards=(
        HazardTemplate(
            hazard="The person at the door gives cause for concern",
            potential_harm="Assault or abuse",
            controls=(
                "Stand clear of the door, ask for the person you arranged to see, show your ID",
                "Do not go in if they seem under the influence, the person you arranged to see is out, "
                "or someone known to be violent is there",
                "Follow the occupants into each room",
                "Leave at once if in any doubt",
            ),
        ),
        HazardTemplate(
            hazard="Travelling by car",
            potential_harm="Breakdown, theft or attack",
            controls=(
                "Plan the route and keep directions in the car",
                "Park where it will be well lit and busy after dark",
                "Lock the car while driving; keep bags out of sight",
                "If you break down, tell the office, who let the family know",
            ),
        ),
        HazardTemplate(
            hazard="Travelling by public transport or on foot",
            potential_harm="Attack or being followed",
            controls=(
                "Get the timetable in advance; sit downstairs on a bus",
                "Avoid shortcuts you do not know are safe",
                "If followed, cross the road and head for a busy place; tell the office where you are",
            ),
        ),
        HazardTemplate(
            hazard="Personal details or belongings",
            potential_harm="Harassment or theft",
            controls=("Never give families your personal details", "Carry as little as you can"),
        ),
    ),
    requires_code_word=False,
    sign_off_roles=(*LINE_MANAGER_ROLES, *LEADERSHIP_ROLES),
)


TRIGGERS: tuple[AttendanceTrigger, ...] = concern_and_refusal(
    SCHOOL, clause("Reasons for a home visit"), concern_reason="attendance", refusal_reason="attendance")
