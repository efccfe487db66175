"""Birchwood Community High School's home-visit policy (September 2025) as an hv-connector plugin.

Registered under the ``hv_connector`` entry point as ``birchwood = "hvc_birchwood:plugin"``.
The core asks these hooks only about Birchwood visits.
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
from hvc_birchwood.policy import AUTHORISER_ROLES, POLICY, REASONS, RISK_TEMPLATE, TRIGGERS
from hvc_birchwood.rules import book

__all__ = ["Policy", "plugin"]


class Policy(RuleBookPolicy):
    """Birchwood's answers to the school-policy hooks."""

    book = book
    policy = POLICY
    """Birchwood's school and the document this plugin encodes."""
    reasons = REASONS
    """The eleven reasons for a home visit the policy lists."""
    risk_template = RISK_TEMPLATE
    """Appendix 1's hazards, controls and ratings, with the safe word."""

    @hookimpl
    def attendance_triggers(self) -> list[AttendanceTrigger]:
        """Attendance issues or concerns, or a student refusing to come in."""
        return list(TRIGGERS)

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """The safeguarding lead or a member of SLT authorises every visit."""
        return list(AUTHORISER_ROLES)

    @hookimpl
    def checkin_plan(self, visit: Visit) -> CheckInPlan:
        """Staff who are not going straight back to school phone in when they leave the home."""
        steps: tuple[CheckInStep, ...] = ()
        if not visit.returning_to_school:
            steps = (CheckInStep(kind="left-home", who=("visiting-staff", "office"), anchor="expected-return",
                                 description="Phone school to say you have left the home."),)
        # The policy asks only for an approximate return time, so allow a quarter of an hour.
        return CheckInPlan(steps=steps, grace_minutes=15)

    @hookimpl
    def escalation_chain(self, visit: Visit) -> list[EscalationStep]:
        """The policy names no chain; this follows what it implies: phone, then DSL/SLT, then 999."""
        return [
            EscalationStep(who=("office", "line-manager"), action="Phone the visiting staff on their mobiles.",
                           wait_minutes=15),
            EscalationStep(who=("dsl", "slt"), action="Tell the DSL or a member of SLT; they decide what to do next.",
                           wait_minutes=15),
            EscalationStep(who=("dsl", "slt"), action="Call 999: staff may be in danger.", wait_minutes=0,
                           emergency=True),
        ]

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        """Home Visit for every record; a child-protection concern is filed as Child Protection first."""
        if kind == "concern":
            cp = visit.outcome is not None and visit.outcome.cp_concern
            return ["Child Protection", "Safeguarding", "Home Visit"] if cp else ["Safeguarding", "Home Visit"]
        if kind == "attendance":
            return ["Attendance", "Home Visit"]
        return ["Home Visit"]

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        """After the visit: the CPOMS log, concerns to the line manager, support after an incident."""
        todo = [FollowUp(text="Log the visit on CPOMS with a detailed report.", who=("visiting-staff",), due_days=1)]
        outcome = visit.outcome
        if outcome is not None and outcome.concerns.strip():
            todo.append(FollowUp(text="Talk through the concerns from this visit with your line manager.",
                                 who=("visiting-staff", "line-manager"), due_days=0))
        if outcome is not None and outcome.violence_or_abuse:
            todo.append(FollowUp(text="Line manager offers support to the staff after the incident.",
                                 who=("line-manager",), due_days=0))
        return todo


plugin = Policy()
"""The object the ``hv_connector`` entry point names."""
