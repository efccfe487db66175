"""What Birchwood's policy document says, as data: identity, reasons, the Appendix 1 risk assessment,
the attendance that proposes a visit.

The rules (``rules.py``) and the hook answers (``__init__.py``) read from here,
so each fact of the document is written down once.
"""

from __future__ import annotations

from datetime import date

from hv_connector.models import AttendanceTrigger, HazardTemplate, PolicyInfo, Reason, RiskTemplate, concern_and_refusal

SCHOOL = "birchwood"

POLICY = PolicyInfo(
    school_id=SCHOOL,
    school_name="Birchwood Community High School (with The Credo School)",
    policy_name="Home Visit Policy and Procedure",
    source_document="birchwood.txt",
    policy_date="September 2025",
    review_by=date(2027, 9, 30),
    phase="secondary",
)


def clause(section: str) -> str:
    """How a Birchwood rule cites the part of the policy it comes from."""
    return f"Birchwood policy — {section}"


REASONS: tuple[Reason, ...] = (
    Reason(code="refusing-school", label="Student refusing to come into school", tags=("attendance",)),
    Reason(code="attendance", label="Attendance issues or concerns", tags=("attendance",)),
    Reason(code="educated-at-home", label="Student being educated at home", tags=("welfare",)),
    Reason(code="contact-failed", label="Every other way of reaching the family has failed", tags=("welfare",)),
    Reason(code="meeting-at-home", label="Meeting with parents/carers better held at home", tags=("meeting",)),
    Reason(code="welfare-check", label="Check an absent child is safe when parents/carers do not respond",
           tags=("welfare", "safeguarding")),
    Reason(code="attendance-support", label="Help parents/carers with strategies for attendance",
           tags=("attendance",)),
    Reason(code="take-home", label="Collect or take a child home because of welfare concerns", tags=("welfare",)),
    Reason(code="work-drop-off", label="Drop off or collect school work (e.g. after an exclusion or illness)",
           tags=("work",)),
    Reason(code="long-absence", label="Visit a child off school for a long time so they do not feel isolated",
           tags=("illness", "welfare")),
    Reason(code="suspected-holiday", label="Check a suspected term-time holiday", tags=("attendance",)),
)

AUTHORISER_ROLES: tuple[str, ...] = ("dsl", "slt", "headteacher")
"""The safeguarding lead or a member of SLT (the headteacher leads SLT)."""

LINE_MANAGER_ROLES: tuple[str, ...] = ("line-manager", "slt", "headteacher")
"""Who can be a member of staff's line manager: a line manager, or a senior leader who manages staff."""

RISK_TEMPLATE = RiskTemplate(
    hazards=(
        HazardTemplate(
            hazard="Aggressive, abusive or violent parent, carer, student or family member",
            potential_harm="Injury or emotional distress",
            controls=(
                "Ask the safeguarding team for background before the visit",
                "Take a colleague if there is any history of challenging behaviour or any concern",
                "Sign out on Inventry and tell safeguarding staff you are leaving site",
                "Record which property you are visiting and when you expect to be back",
                "Take a mobile phone",
            ),
            default_rating="L",
        ),
        HazardTemplate(
            hazard="Driving",
            potential_harm="Breakdown, accident, using a phone while driving, tiredness",
            controls=(
                "Keep the car maintained",
                "Take a mobile phone",
                "Let colleagues know where you are going",
                "Phone school if your plans change",
                "Keep valuables out of sight in the car",
                "Park in a well-lit place",
            ),
            default_rating="L",
        ),
        HazardTemplate(
            hazard="Moving through public areas such as car parks",
            potential_harm="Attack or theft",
            controls=(
                "Call the emergency services if you need to",
                "Keep valuables out of sight",
                "Hand over valuables rather than put yourself at risk",
                "Ask your line manager for support after any incident",
            ),
            default_rating="L",
        ),
        HazardTemplate(
            hazard="Illness or injury",
            potential_harm="Illness or injury",
            controls=(
                "Call the emergency services",
                "Tell your line manager if you can",
                "Take any prescribed medication as directed",
                "Ask your line manager for support afterwards",
            ),
            default_rating="L",
        ),
        HazardTemplate(
            hazard="Dog or other animal in the home",
            potential_harm="Injury",
            controls=(
                "Keep away from animals",
                "Ask an adult to take the animal out of the room you are in",
                "Move calmly and quietly around animals",
            ),
            default_rating=None,  # Appendix 1 leaves this rating blank: the assessor rates it.
        ),
    ),
    requires_code_word=True,
    sign_off_roles=("line-manager", "dsl", "slt"),
)

HAZARD_NAMES: tuple[str, ...] = tuple(h.hazard for h in RISK_TEMPLATE.hazards)


TRIGGERS: tuple[AttendanceTrigger, ...] = concern_and_refusal(
    SCHOOL, clause("Reasons for home visits"), concern_reason="attendance", refusal_reason="refusing-school",
    deciders=(*AUTHORISER_ROLES, "attendance-officer"))
