"""Washwood Heath Academy's home-visit policy as an hv-connector plugin.

Registered under the ``hv_connector`` entry point as ``washwood-heath = "hvc_washwood_heath:plugin"``.
The policy document is undated and gives no review date; the core notes that as info.
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
from hvc_washwood_heath.policy import (
    ESCALATION,
    LEADERSHIP_ROLES,
    LINE_MANAGER_ROLES,
    POLICY,
    REASONS,
    RISK_TEMPLATE,
    TRIGGERS,
    out_of_hours,
)
from hvc_washwood_heath.rules import book

__all__ = ["Policy", "plugin"]

_CATEGORIES: dict[str, list[str]] = {
    "home-visit": ["Home Visit"],
    "cancelled": ["Home Visit"],
    "attendance": ["Attendance", "Home Visit"],
    "concern": ["Safeguarding", "Home Visit"],
}


class Policy(RuleBookPolicy):
    """Washwood Heath's answers to the school-policy hooks."""

    book = book
    policy = POLICY
    """Washwood Heath's school and the (undated) document this plugin encodes."""
    reasons = REASONS
    """The policy's five circumstances for a home visit, the last being a referral from another service."""
    risk_template = RISK_TEMPLATE
    """The hazards and precautions of the policy's "Employees safety" section."""

    @hookimpl
    def attendance_triggers(self) -> list[AttendanceTrigger]:
        """Attendance that is a concern, or a student refusing to come in."""
        return list(TRIGGERS)

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """Whoever the policy has plan the visit: the line manager or leadership; only SLT out of hours."""
        if out_of_hours(visit):
            return list(LEADERSHIP_ROLES)
        return [*LINE_MANAGER_ROLES, *LEADERSHIP_ROLES]

    @hookimpl
    def checkin_plan(self, visit: Visit) -> CheckInPlan:
        """Sign back in at reception; after an out-of-hours visit, tell the line manager you are home safe."""
        steps: list[CheckInStep] = []
        if visit.returning_to_school:
            steps.append(CheckInStep(kind="staff-call", who=("visiting-staff", "office"), anchor="expected-return",
                                     description="Sign back in at reception."))
        if out_of_hours(visit):
            steps.append(CheckInStep(kind="home-safe", who=("visiting-staff", "line-manager"),
                                     anchor="expected-return",
                                     description="Phone or text your line manager that you are home safe."))
        # The office acts "at the agreed expected time of return": no grace.
        return CheckInPlan(steps=tuple(steps), grace_minutes=0)

    @hookimpl
    def escalation_chain(self, visit: Visit) -> list[EscalationStep]:
        """Office manager phones the staff → the student's home → SLT are told → SLT call the police."""
        return list(ESCALATION)

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        """Home Visit, with Attendance or Safeguarding first where the record is about that."""
        return list(_CATEGORIES[kind])

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        """Issues beyond the visit's reason passed on; an incident investigated; home safe after hours."""
        todo = [FollowUp(text="Pass any issues the family raised beyond the visit's reason to the relevant colleague.",
                         who=("visiting-staff",), due_days=0)]
        outcome = visit.outcome
        if outcome is not None and outcome.violence_or_abuse:
            todo.append(FollowUp(text="Investigate the incident, notify the relevant agencies, review the safety "
                                      "measures and arrange any training the staff need.",
                                 who=("line-manager",)))
        if out_of_hours(visit):
            todo.append(FollowUp(text="Tell your line manager (phone or text) that you are home safe.",
                                 who=("visiting-staff", "line-manager"), due_days=0))
        return todo


plugin = Policy()
"""The object the ``hv_connector`` entry point names."""
