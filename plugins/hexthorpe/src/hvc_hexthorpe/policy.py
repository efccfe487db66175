"""What Hexthorpe's policy document says, as data: identity, reasons, roles, the risks it names and
the attendance that proposes a visit.

The rules (``rules.py``) and the hook answers (``__init__.py``) read from here.
"""

from __future__ import annotations

from datetime import date

from hv_connector.models import (
    AttendanceTrigger,
    HazardTemplate,
    Measure,
    PolicyInfo,
    Reason,
    RiskTemplate,
    Urgency,
    Visit,
    concern_and_refusal,
)

SCHOOL = "hexthorpe"

POLICY = PolicyInfo(
    school_id=SCHOOL,
    school_name="Hexthorpe Primary Academy",
    policy_name="Home Visit Policy",
    source_document="hexthorpe.txt",
    policy_date="September 2020",
    review_by=date(2021, 9, 30),
    phase="primary",
)


def clause(section: str) -> str:
    """How a Hexthorpe rule cites the part of the policy it comes from."""
    return f"Hexthorpe policy — {section}"


REASONS: tuple[Reason, ...] = (
    Reason(code="excluded", label="Pupil who is excluded", tags=("exclusion",)),
    Reason(code="unexplained-absence", label="Pupil absent with no reason given", tags=("attendance", "welfare")),
    Reason(code="long-term-illness", label="Pupil absent through long-term illness", tags=("illness",)),
    Reason(code="attendance", label="Attendance is a concern, or the pupil refuses to come in", tags=("attendance",)),
    Reason(code="parent-cannot-come-in", label="Parent/carer cannot come to the academy for a meeting",
           tags=("meeting",)),
)

SAFEGUARDING_ROLES: tuple[str, ...] = ("headteacher", "slt")
"""The Principal (the directory's ``headteacher``) or a member of SLT."""

COORDINATOR_ROLES: tuple[str, ...] = ("pflo",)
"""The Pupil and Family Liaison Officer plans and coordinates every visit."""


def about_safeguarding(visit: Visit) -> bool:
    """Whether the visit is of a safeguarding nature (so the Principal or SLT must be consulted)."""
    return visit.safeguarding or visit.statutory_cp


RISK_TEMPLATE = RiskTemplate(
    hazards=(
        HazardTemplate(
            hazard="New concerns or an unexpected situation on arrival or during the meeting",
            potential_harm="Injury or distress",
            controls=(
                "Two members of staff go, never one",
                "Know the pupil's details and history before you go",
                "Decide whether it is safe to carry on; if in any doubt, leave and rearrange",
            ),
        ),
        HazardTemplate(
            hazard="Staff not back at the agreed time",
            potential_harm="Staff in danger without anyone knowing",
            controls=(
                "Both staff carry mobile phones, switched on, numbers given to the admin team",
                "Sign out at reception with the destination and the expected return",
                "Sign back in at reception on return",
            ),
        ),
        HazardTemplate(
            hazard="Passing on infection between homes and school",
            potential_harm="Illness",
            controls=(
                "Wear masks on visits",
                "Wash hands before leaving and as soon as you are back",
                "Sanitise hands between visits",
            ),
        ),
    ),
    requires_code_word=False,
    sign_off_roles=("pflo", *SAFEGUARDING_ROLES),
)


DECIDERS = (*COORDINATOR_ROLES, *SAFEGUARDING_ROLES, "dsl")
"""Visits are planned through the PFLO, who directs the daily attendance visits ("Procedures"), with the DSL and SLT."""

TRIGGERS: tuple[AttendanceTrigger, ...] = (
    AttendanceTrigger(
        id="hexthorpe.no-reason-given", title="Absent and no reason for the absence has been given",
        clause=clause("The reasons for a home visit; Procedures (attendance visits may be daily)"),
        measure=Measure.DAYS_ABSENT_UNEXPLAINED, threshold=1, option="no_reason_days", reason="unexplained-absence",
        urgency=Urgency.URGENT, deciders=DECIDERS),
    *concern_and_refusal("hexthorpe", clause("The reasons for a home visit"), concern_reason="attendance",
                         refusal_reason="attendance", deciders=DECIDERS),
)
