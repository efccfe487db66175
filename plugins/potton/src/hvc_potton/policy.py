"""What Potton's policy document says, as data: identity, reasons, the headteacher's risk assessment,
the attendance that proposes a visit or a referral.

The rules (``rules.py``) and the hook answers (``__init__.py``) read from here,
so each fact of the document is written down once.
"""

from __future__ import annotations

from datetime import date

from hv_connector.models import AttendanceTrigger, HazardTemplate, Measure, PolicyInfo, Proposes, Reason, RiskTemplate, Urgency

SCHOOL = "potton"

POLICY = PolicyInfo(
    school_id=SCHOOL,
    school_name="Potton Primary School",
    policy_name="Home Visit Policy",
    source_document="potton.txt",
    policy_date="October 2025",
    review_by=date(2026, 10, 31),
    phase="primary",
)


def clause(section: str) -> str:
    """How a Potton rule cites its section."""
    return f"Potton policy — {section}"


DEFAULT_SCHOOL_DAY = ("08:45", "15:15")
"""Potton's school day on the London wall clock; override with the ``school_day`` option."""

CHECKIN_AFTER_MINUTES = 10
"""The office's check-in call falls due this long after the scheduled start (§4)."""
LEGAL_THRESHOLD = 70.0
"""Attendance over three months below this percentage is referred to the authorities."""

AUTHORISER_ROLES: tuple[str, ...] = ("headteacher",)
"""Only the headteacher authorises (§2, §3)."""

REASONS = (
    Reason(code="safeguarding", label="A safeguarding concern means seeing the pupil at home",
           tags=("safeguarding", "welfare")),
    Reason(code="unexplained-absence", label="Unexplained or unauthorised absence not resolved by other contact",
           tags=("attendance", "welfare")),
    Reason(code="early-help", label="An early help assessment shows a visit would give insight or support",
           tags=("welfare",)),
    Reason(code="persistent-absence", label="Attendance is, or risks becoming, persistently low",
           tags=("attendance",)),
    Reason(code="tuition", label="Tuition or educational support at home", tags=("tuition",)),
    Reason(code="parent-meeting", label="Parents cannot come to a meeting at school (disability, illness, "
                                        "other valid reason)", tags=("meeting",)),
)
"""The reasons in §3 of the policy, in its order."""

ATTENDANCE_REASONS = frozenset(r.code for r in REASONS if "attendance" in r.tags)

HAZARDS = (
    HazardTemplate(hazard="Aggressive or violent adult at the home", potential_harm="Injury, threats or distress",
                   controls=("Read the background and the family's circumstances first",
                             "Find the exits before going in and keep one clear",
                             "Never enter or stay without an appropriate adult present",
                             "Leave at once if you feel unsafe; call the police if violence is threatened or used")),
    HazardTemplate(hazard="Potentially dangerous animals", potential_harm="Bites or injury",
                   controls=("Ask the family to shut animals in another room or put them outside",
                             "Cancel the visit if they will not or cannot")),
    HazardTemplate(hazard="Lone working (only where the headteacher decides it is safe)",
                   potential_harm="No one at hand if something goes wrong",
                   controls=("Lone-working risk assessment before the visit (Lone Working Policy)",
                             "Office check-in call 10 minutes after the start",
                             "Code word agreed for a discreet call for help")),
    HazardTemplate(hazard="Driving to and from the home", potential_harm="Accident, breakdown or a targeted car",
                   controls=("Follow the Driving at Work Policy",
                             "Park in a safe, well-lit place facing away from the property",
                             "The office holds the car's make, model, registration and colour")),
    HazardTemplate(hazard="Losing contact with school", potential_harm="Help cannot be sent",
                   controls=("Carry a charged mobile, switched on, its number held by the office",
                             "Tell the office of any change to the schedule, e.g. a traffic delay")),
    HazardTemplate(hazard="Allegation against staff", potential_harm="Harm to the pupil or to the staff member",
                   controls=("No conversations with siblings or other children without an adult present",
                             "Physical intervention only as a last resort; record and share it with the head")),
    HazardTemplate(hazard="Theft", potential_harm="Loss of money or property",
                   controls=("Carry no large amounts of cash or valuables",)),
)
"""The headteacher's Home Visit Risk Assessment, from §4 of the policy."""

CATEGORIES: dict[str, tuple[str, ...]] = {
    "home-visit": ("Home Visit",),
    "cancelled": ("Home Visit",),
    "attendance": ("Attendance", "Home Visit"),
    "concern": ("Safeguarding", "Home Visit"),
}
"""The CPOMS categories of each kind of record, before the visit's own refinements."""

RISK_TEMPLATE = RiskTemplate(hazards=HAZARDS, requires_code_word=True, sign_off_roles=AUTHORISER_ROLES)
"""The headteacher's home-visit risk assessment, with lone working and a code word (§4)."""


DECIDERS = (*AUTHORISER_ROLES, "dsl", "attendance-officer")
"""The headteacher authorises every visit (§3); the DSL and the attendance officer work the list with them (§7)."""

TRIGGERS: tuple[AttendanceTrigger, ...] = (
    AttendanceTrigger(
        id="potton.unexplained-absence", title="Unexplained or unauthorised absence, not resolved by other contact",
        clause=clause("3. Home visits"), measure=Measure.DAYS_ABSENT_UNEXPLAINED, threshold=2,
        option="unexplained_days", reason="unexplained-absence", urgency=Urgency.URGENT, deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.persistently-low-risk", title="Attendance at risk of becoming persistently low (last 4 weeks)",
        clause=clause("3. Home visits"), measure=Measure.ABSENCE_4_WEEKS, threshold=10,
        option="at_risk_absence_percent", reason="persistent-absence", deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.agreement-not-kept", title="Agreement made at an attendance visit not kept: follow-up visit",
        clause=clause("7. Attendance officer visits"), measure=Measure.UNAUTHORISED_SINCE_AGREEMENT, threshold=2,
        option="agreement_sessions", reason="persistent-absence", urgency=Urgency.SOON, deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.below-70", title="Attendance below 70% over three months: notify the local authority",
        clause=clause("7. Attendance officer visits"), measure=Measure.ATTENDANCE_3_MONTHS, threshold=LEGAL_THRESHOLD,
        below=True, option="legal_threshold_percent", proposes=Proposes.NOTIFY_LOCAL_AUTHORITY, urgency=Urgency.SOON,
        deciders=AUTHORISER_ROLES),
)
