"""St Edwards Catholic Primary School's home-visit policy (the Trust's, undated) as an hv-connector plugin.

Registered under the ``hv_connector`` entry point as ``st-edwards = "hvc_st_edwards:plugin"``.
The core asks these hooks only about St Edwards visits.
"""

from __future__ import annotations

from hv_connector import hookimpl
from hv_connector.models import (
    CheckInPlan,
    CheckInStep,
    EscalationStep,
    FollowUp,
    ReportKind,
    Visit,
)
from hv_connector.rules import RuleBookPolicy
from hvc_st_edwards.policy import DEFAULT_INTERVAL_MINUTES, POLICY, REASONS, RISK_TEMPLATE, SIGN_OFF_ROLES
from hvc_st_edwards.rules import book

__all__ = ["Policy", "plugin"]


class Policy(RuleBookPolicy):
    """St Edwards Catholic Primary School's Home Visits Policy (Trust policy), as an hv-connector plugin."""

    book = book
    policy = POLICY
    """St Edwards' policy: not dated, and the review date is left blank."""
    reasons = REASONS
    """Reasons derived from the policy's aims (§1, §2)."""
    risk_template = RISK_TEMPLATE
    """§6's six topics, §3's kinds of risk, a password for calls for help, signed off by the head or delegate."""

    @hookimpl
    def authoriser_roles(self, visit: Visit) -> list[str]:
        """The headteacher decides on home visits (§1), or the designated person acting for them (§6, §8)."""
        return list(SIGN_OFF_ROLES)

    @hookimpl
    def checkin_plan(self, visit: Visit) -> CheckInPlan:
        """On arrival, at the agreed interval, a nearby colleague's interruption, and on leaving (§4)."""
        assessment = visit.risk_assessment
        interval = (assessment.contact_interval_minutes if assessment else None) or DEFAULT_INTERVAL_MINUTES
        steps = [
            CheckInStep(kind="staff-call", who=("visiting-staff",), anchor="planned-start",
                        description="Tell the office you are at the home and how long you expect to stay."),
            CheckInStep(kind="interval", who=("office", "visiting-staff"), anchor="interval", offset_minutes=interval,
                        description=f"Buddy contact every {interval} minutes, as the risk assessment agrees."),
        ]
        if visit.nearby_staff is not None and visit.expected_return is not None:
            halfway = int((visit.expected_return - visit.planned_start).total_seconds() // 120)
            steps.append(CheckInStep(kind="staff-call", who=("visiting-staff",), anchor="planned-start",
                                     offset_minutes=halfway,
                                     description="The colleague nearby interrupts the meeting with the agreed "
                                                 "password (at least once)."))
        steps.append(CheckInStep(kind="left-home", who=("visiting-staff",), anchor="expected-return",
                                 description="Tell the office the meeting is over and you are no longer at the "
                                             "address."))
        return CheckInPlan(steps=tuple(steps), grace_minutes=0)

    @hookimpl
    def escalation_chain(self, visit: Visit) -> list[EscalationStep]:
        """The missed-report procedure: office → headteacher (the duty holder) → 999 (§4)."""
        return [
            EscalationStep(who=("office",), action="Call the visiting staff on the agreed mobile, then their buddy, "
                                                   "and follow the missed-report procedure in the risk assessment.",
                           wait_minutes=10),
            EscalationStep(who=("headteacher",), action="Tell the headteacher (the duty holder), who takes the "
                                                        "immediate action set out in the visit's briefing.",
                           wait_minutes=10),
            EscalationStep(who=("headteacher", "office"),
                           action="Dial 999: give the phone number, the address and exact location, your name, "
                                  "what has happened, and the best way in.",
                           wait_minutes=0, emergency=True),
        ]

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        """Home Visit records, filed with Safeguarding, Attendance or Parental Contact as the visit is."""
        match kind:
            case "concern":
                return ["Child Protection" if visit.statutory_cp else "Safeguarding", "Home Visit"]
            case "attendance":
                return ["Attendance", "Home Visit"]
            case "home-visit" if visit.reason in ("new-starter", "parent-meeting"):
                return ["Home Visit", "Parental Contact"]
            case _:
                return ["Home Visit"]

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        """The report to the headteacher or designated person (§8), and what an abort or incident needs (§6, §8)."""
        outcome = visit.outcome
        if outcome is None:
            return []
        out = []
        if not outcome.reported_to_head:
            out.append(FollowUp(text="Report on the visit to the headteacher or the designated person.",
                                who=("visiting-staff",), due_days=0))
        if outcome.cancelled_for_safety:
            out.append(FollowUp(text="The visit was aborted as too risky: the headteacher or the designated "
                                     "person decides what happens next.", who=SIGN_OFF_ROLES, due_days=1))
        if outcome.concerns.strip():
            out.append(FollowUp(text="Discuss the concern raised on the visit with your manager.",
                                who=("visiting-staff",), due_days=0))
        if outcome.violence_or_abuse:
            out.append(FollowUp(text="A serious incident on a home visit: the headteacher reports it to the LAC.",
                                who=("headteacher",)))
        return out


plugin = Policy()
"""The object registered under the ``hv_connector`` entry point ``st-edwards``."""
