"""Hexthorpe Primary Academy's home-visit policy (September 2020) as an hv-connector plugin.

Registered under the ``hv_connector`` entry point as ``hexthorpe = "hvc_hexthorpe:plugin"``.
The policy was due for review in September 2021, so the core's
``core.policy-review-overdue`` warns on every Hexthorpe visit until it is updated.
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
from hvc_hexthorpe.policy import (
    COORDINATOR_ROLES,
    POLICY,
    REASONS,
    RISK_TEMPLATE,
    SAFEGUARDING_ROLES,
    TRIGGERS,
    about_safeguarding,
)
from hvc_hexthorpe.rules import book

__all__ = ["Policy", "plugin"]

ATTENDANCE_CODES = frozenset(r.code for r in REASONS if "attendance" in r.tags)


class Policy(RuleBookPolicy):
    """Hexthorpe's answers to the school-policy hooks."""

    book = book
    policy = POLICY
    """Hexthorpe's school and the (overdue) document this plugin encodes."""
    reasons = REASONS
    """The five circumstances the policy gives for a home visit."""
    risk_template = RISK_TEMPLATE
    """The risks the policy's procedures guard against (it has no template of its own)."""

    @hookimpl
    def attendance_triggers(self) -> list[AttendanceTrigger]:
        """Absence with no reason given (daily visits, directed by the PFLO), attendance that is a concern, refusal."""
        return list(TRIGGERS)

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """The PFLO, who coordinates visits, or the Principal/SLT; only the Principal/SLT for safeguarding."""
        if about_safeguarding(visit):
            return list(SAFEGUARDING_ROLES)
        return [*COORDINATOR_ROLES, *SAFEGUARDING_ROLES]

    @hookimpl
    def checkin_plan(self, visit: Visit) -> CheckInPlan:
        """Staff sign back in at reception by the agreed time; the admin team acts the moment it passes."""
        sign_in = CheckInStep(kind="staff-call", who=("visiting-staff", "admin"), anchor="expected-return",
                              description="Sign back in at reception and tell colleagues you are back.")
        return CheckInPlan(steps=(sign_in,), grace_minutes=0)

    @hookimpl
    def escalation_chain(self, visit: Visit) -> list[EscalationStep]:
        """Admin team phones the staff → the duty SLT is told → SLT calls the police where necessary."""
        return [
            EscalationStep(who=("admin",), action="Phone the visiting staff on their mobiles.", wait_minutes=15),
            EscalationStep(who=("slt",), action="Tell the duty member of SLT, who decides what to do.",
                           wait_minutes=15),
            EscalationStep(who=("slt",), action="A member of SLT calls the police.", wait_minutes=0, emergency=True),
        ]

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        """Home Visit, with Attendance or Safeguarding first where the record is about that."""
        if kind == "concern":
            return ["Safeguarding", "Home Visit"]
        if kind == "attendance" or (kind == "home-visit" and visit.reason in ATTENDANCE_CODES):
            return ["Attendance", "Home Visit"]
        return ["Home Visit"]

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        """Issues raised beyond the visit's reason go to the right colleague; attendance visits may recur daily."""
        todo = [
            FollowUp(text="Pass any issues the family raised beyond the visit's reason to the relevant colleague.",
                     who=("visiting-staff",), due_days=0),
            FollowUp(text="Wash and sanitise your hands now you are back.", who=("visiting-staff",), due_days=0),
        ]
        if visit.reason in ATTENDANCE_CODES:
            todo.append(FollowUp(text="The PFLO decides whether another attendance visit is needed tomorrow.",
                                 who=("pflo",), due_days=1))
        return todo


plugin = Policy()
"""The object the ``hv_connector`` entry point names."""
