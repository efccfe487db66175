"""Potton Primary School's home-visit policy (October 2025) as an hv-connector plugin.

Registered under the ``hv_connector`` entry point as ``potton = "hvc_potton:plugin"``.
The core asks these hooks only about Potton visits.
"""

from __future__ import annotations

from hv_connector import hookimpl
from hv_connector.models import (
    AttendanceTrigger,
    CheckInPlan,
    CheckInStep,
    EscalationStep,
    FollowUp,
    ReportKind,
    Visit,
)
from hv_connector.rules import RuleBookPolicy
from hvc_potton.policy import (
    ATTENDANCE_REASONS,
    AUTHORISER_ROLES,
    CATEGORIES,
    CHECKIN_AFTER_MINUTES,
    LEGAL_THRESHOLD,
    POLICY,
    REASONS,
    RISK_TEMPLATE,
    TRIGGERS,
)
from hvc_potton.rules import book

__all__ = ["Policy", "plugin"]


class Policy(RuleBookPolicy):
    """Potton Primary School's Home Visit Policy (October 2025), as an hv-connector plugin."""

    book = book
    policy = POLICY
    """Potton's policy: reviewed October 2025, next review October 2026."""
    reasons = REASONS
    """The reasons for a visit listed in §3."""
    risk_template = RISK_TEMPLATE
    """The headteacher's home-visit risk assessment, with lone working and a code word (§4)."""

    @hookimpl
    def attendance_triggers(self) -> list[AttendanceTrigger]:
        """Potton's triggers: unexplained absence, attendance at risk, agreements not kept (§3, §7) and the 70% line."""
        return list(TRIGGERS)

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """Only the headteacher authorises (§2, §3)."""
        return list(AUTHORISER_ROLES)

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
