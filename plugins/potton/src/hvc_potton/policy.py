"""Potton's answers to hv-connector's school-policy hooks.

Only Potton visits reach these hooks: the core dispatches each school's
questions to that school's plugin (and the core rules) alone.
"""

from __future__ import annotations

from datetime import date

from hv_connector import hookimpl
from hv_connector.models import (
    CheckInPlan,
    CheckInStep,
    EscalationStep,
    FollowUp,
    HazardTemplate,
    PolicyInfo,
    Reason,
    ReportKind,
    RiskTemplate,
    Visit,
)
from hv_connector.rules import RuleBookPolicy
from hvc_potton.rules import CHECKIN_AFTER_MINUTES, LEGAL_THRESHOLD, book

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


class Policy(RuleBookPolicy):
    """Potton Primary School's Home Visit Policy (October 2025), as an hv-connector plugin."""

    book = book

    @hookimpl
    def policy_info(self) -> PolicyInfo:
        """Potton's policy: reviewed October 2025, next review October 2026."""
        return PolicyInfo(school_id="potton", school_name="Potton Primary School", policy_name="Home Visit Policy",
                          source_document="potton.txt", policy_date="October 2025",
                          review_by=date(2026, 10, 31), phase="primary")

    @hookimpl
    def visit_reasons(self) -> list[Reason]:
        """The reasons for a visit listed in §3."""
        return list(REASONS)

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """Only the headteacher authorises (§2, §3)."""
        return ["headteacher"]

    @hookimpl
    def risk_assessment_template(self, visit: Visit) -> RiskTemplate:
        """The headteacher's home-visit risk assessment, with lone working and a code word (§4)."""
        return RiskTemplate(hazards=HAZARDS, requires_code_word=True, sign_off_roles=("headteacher",))

    @hookimpl
    def checkin_plan(self, visit: Visit) -> CheckInPlan:
        """The office calls 10 minutes after the scheduled start; staff call when they leave (§4)."""
        return CheckInPlan(steps=(
            CheckInStep(kind="office-call", who=("office",), anchor="planned-start",
                        offset_minutes=CHECKIN_AFTER_MINUTES,
                        description="Office: phone the visiting staff 10 minutes after the scheduled start."),
            CheckInStep(kind="left-home", who=("visiting-staff",), anchor="expected-return",
                        description="Phone the office as you leave the home and say whether there are any "
                                    "concerns."),
        ), grace_minutes=10)

    @hookimpl
    def escalation_chain(self, visit: Visit) -> list[EscalationStep]:
        """Office tries the staff → the headteacher is told at once and decides → police (§3, §4)."""
        return [
            EscalationStep(who=("office",), action="Phone the visiting staff on the mobile numbers in the log.",
                           wait_minutes=10),
            EscalationStep(who=("headteacher",), action="Tell the headteacher at once; the headteacher decides "
                                                        "what to do next.", wait_minutes=15),
            EscalationStep(who=("headteacher",), action="Call the police (999): there is concern for the staff "
                                                        "member's welfare.", wait_minutes=0, emergency=True),
        ]

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        """Home Visit records, with the safeguarding or attendance category the visit belongs to."""
        if kind == "concern" and visit.statutory_cp:
            return ["Child Protection", "Safeguarding", "Home Visit"]
        if kind == "attendance" and visit.reason == "persistent-absence":
            return ["Persistent Absence", "Attendance", "Home Visit"]
        return list(CATEGORIES[kind])

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        """Attendance agreements and referral (§7); a safety cancellation in writing to the head (§3)."""
        outcome = visit.outcome
        if outcome is None:
            return []
        out = []
        if visit.reason in ATTENDANCE_REASONS and outcome.agreements:
            out += [
                FollowUp(text="Record the agreements in the pupil's attendance record.",
                         who=("attendance-officer",), due_days=0),
                FollowUp(text="If the agreements are not kept, send the parents a reminder letter.",
                         who=("attendance-officer",)),
                FollowUp(text="If they are still not kept, arrange a follow-up visit.",
                         who=("attendance-officer",)),
            ]
        attendance = visit.pupil.attendance_3m
        if attendance is not None and attendance < LEGAL_THRESHOLD:
            out.append(FollowUp(text=f"Attendance is {attendance:.0f}% over three months: notify the local "
                                     "authority so legal proceedings can be considered.",
                                who=("headteacher", "attendance-officer"), due_days=5))
        if outcome.cancelled_for_safety:
            out.append(FollowUp(text="Send the headteacher the reason the visit was cancelled for safety, in "
                                     "writing.", who=("visiting-staff",), due_days=0))
        if outcome.violence_or_abuse:
            out.append(FollowUp(text="Report the incident on the visit to the headteacher.",
                                who=("visiting-staff",), due_days=0))
        return out


plugin = Policy()
"""The object registered under the ``hv_connector`` entry point ``potton``."""
