"""The core rules every school shares (``core.*``), and the defaults a school may override.

Registered as a plugin like any other. Its ``firstresult`` answers are
``trylast`` so a school's own answer always wins.
"""

from __future__ import annotations

import functools
from datetime import datetime

from hv_connector import hookimpl
from hv_connector.models import (
    AttendanceTrigger,
    CheckInPlan,
    CheckInStep,
    EscalationStep,
    Finding,
    FollowUp,
    HazardTemplate,
    Measure,
    PolicyContext,
    PolicyInfo,
    RiskTemplate,
    RuleInfo,
    Severity,
    Stage,
    Urgency,
    Visit,
)
from hv_connector.models.policy import ReportKind, is_past
from hv_connector.rules import RuleBook, Verdict, overdue_by

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO
CORE = "hv-connector core (shared baseline)"

book = RuleBook("core")


@book.rule("core.reason-required", stage=Stage.REQUEST, severity=BLOCK, clause=f"{CORE}: reasons for a visit",
           summary="A visit has a reason from the school's list of reasons.", fields=("reason",))
def reason_required(visit: Visit, ctx: PolicyContext) -> str | None:
    if not visit.reason:
        return "Choose the reason for this visit from the school's list."
    if ctx.reason(visit.reason) is None:
        known = ", ".join(r.code for r in ctx.reasons) or "none configured"
        return f"'{visit.reason}' is not one of this school's reasons for a visit ({known})."
    return None


@book.rule("core.pupil-known", stage=Stage.REQUEST, severity=BLOCK, clause=f"{CORE}: pupil background",
           summary="The pupil exists in the synced MIS data (or the visit is marked as a new-family visit).",
           fields=("pupil", "new_family"))
def pupil_known(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.pupil.known_in_mis or visit.new_family:
        return None
    return "This pupil is not in the synced MIS data: run `hvc sync`, or mark the visit as a new-family visit."


@book.rule("core.address-known", stage=Stage.SIGN_OUT, severity=BLOCK, clause=f"{CORE}: sign-out record",
           summary="The visit has an address to go to.", fields=("address",))
def address_known(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.address and visit.address.strip():
        return None
    return "Record the address you are going to before you sign out."


@book.rule("core.expected-return", stage=Stage.SIGN_OUT, severity=BLOCK, clause=f"{CORE}: sign-out record",
           summary="The office knows who went, where, and the expected time of return.",
           fields=("staff", "expected_return"))
def expected_return(visit: Visit, ctx: PolicyContext) -> str | None:
    if not visit.staff:
        return "Name the staff going on the visit so the office knows who is out."
    if visit.expected_return is None:
        return "Give the office your expected time of return before you sign out."
    return None


@book.rule("core.mobile-phone", stage=Stage.SIGN_OUT, severity=BLOCK, clause=f"{CORE}: staying in contact",
           summary="At least one visiting staff member has a mobile number on record.", fields=("staff",))
def mobile_phone(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.mobiles:
        return None
    return "At least one of you must take a mobile phone: add its number to your directory entry."


@book.rule("core.authorised", stage=Stage.SIGN_OUT, severity=BLOCK, clause=f"{CORE}: authorisation",
           summary="Nobody signs out for a visit that is not authorised.", fields=("authorised_by",))
def authorised(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.authorised_by is not None or visit.record_of_past_visit:
        return None
    return "This visit has not been authorised: ask an authoriser before you leave."


@book.rule("core.background-read", stage=Stage.AUTHORISE, severity=WARN, clause=f"{CORE}: pupil background",
           summary="Staff have been shown the pupil's background before the visit.", fields=("background_shown_at",))
def background_read(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.background_shown_at is not None:
        return None
    return ("Show the visiting staff the pupil briefing (contacts with parental responsibility, medical, SEN, "
            "attendance, earlier visits at the address) before they go.")


@book.rule("core.policy-review-overdue", stage=Stage.AUTHORISE, severity=WARN, clause=f"{CORE}: policy in date",
           summary="The school's policy is past its own review date.")
def policy_review_overdue(visit: Visit, ctx: PolicyContext) -> Verdict | str | None:
    return None if ctx.policy is None else _review_note(ctx.policy, ctx.now)


# The same for every visit checked at one moment, so each school's note is written once per moment (and, the
# same object each time, becomes one shared finding) instead of once per visit.
@functools.lru_cache(maxsize=64)
def _review_note(policy: PolicyInfo, now: datetime) -> Verdict | str | None:
    if policy.review_by is None:
        return Verdict(f"{policy.policy_name} gives no review date: ask its owner when it is next reviewed.",
                       severity=INFO)
    if is_past(policy.review_by, now):
        return (f"{policy.policy_name} was due for review by {policy.review_by:%d %B %Y}: "
                "follow it, and tell its owner it is overdue.")
    return None


@book.rule("core.report-to-cpoms", stage=Stage.AFTER, severity=BLOCK, clause=f"{CORE}: recording in CPOMS",
           summary="Every completed, cancelled or aborted visit is reported to CPOMS; a concern goes to the DSL at once.",
           fields=("outcome",))
def report_to_cpoms(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None:
        return "Write the visit report: it is sent to CPOMS for the pupil's record."
    if outcome.cp_concern and not outcome.concerns.strip():
        return "Describe the concern in the report: it goes to the DSL at once."
    return None


@book.rule("core.overdue-escalation", stage=Stage.RETURN, severity=BLOCK, clause=f"{CORE}: overdue staff",
           summary="A visit not back by its expected return is escalated along the school's chain until someone closes it.",
           fields=("expected_return", "returned_at"))
def overdue_escalation(visit: Visit, ctx: PolicyContext) -> str | None:
    if overdue_by(visit, ctx) is None:
        return None
    if visit.escalation_started_at is not None:
        return "Staff are overdue and the escalation has started: follow the chain until they are safe."
    return "Staff are past their expected return: start the school's escalation now."


@hookimpl(trylast=True)
def policy_rules() -> list[RuleInfo]:
    return book.rules()


@hookimpl(trylast=True)
def visit_findings(visit: Visit, stage: Stage, ctx: PolicyContext) -> list[Finding]:
    return book.findings(visit, stage, ctx)


@hookimpl(trylast=True)
def authoriser_roles(visit: Visit) -> list[str]:
    return ["dsl", "headteacher"]


@hookimpl(trylast=True)
def risk_assessment_template(visit: Visit) -> RiskTemplate:
    return RiskTemplate(
        hazards=(
            HazardTemplate(hazard="Aggressive or violent person at the home", potential_harm="Injury or distress",
                           controls=("Go in pairs where there is any concern", "Keep a clear exit",
                                     "Leave at once if you feel unsafe")),
            HazardTemplate(hazard="Travel", potential_harm="Accident or breakdown",
                           controls=("Plan the route", "Carry a charged mobile phone")),
        ),
        requires_code_word=True,
    )


@hookimpl(trylast=True)
def checkin_plan(visit: Visit) -> CheckInPlan:
    return CheckInPlan(
        steps=(CheckInStep(kind="left-home", who=("visiting-staff",), anchor="expected-return",
                           description="Phone the office when you leave the home."),),
        grace_minutes=10,
    )


@hookimpl(trylast=True)
def escalation_chain(visit: Visit) -> list[EscalationStep]:
    return [
        EscalationStep(who=("office",), action="Phone the visiting staff on their mobiles.", wait_minutes=15),
        EscalationStep(who=("dsl", "headteacher"), action="Tell the DSL and the headteacher; they decide what to do.",
                       wait_minutes=15),
        EscalationStep(who=("dsl", "headteacher"), action="Call the police (999) if there is concern for staff safety.",
                       wait_minutes=0, emergency=True),
    ]


_CATEGORIES: dict[str, list[str]] = {
    "home-visit": ["Home Visit"],
    "cancelled": ["Home Visit"],
    "attendance": ["Home Visit", "Attendance"],
    "concern": ["Safeguarding", "Home Visit"],
}


@hookimpl(trylast=True)
def cpoms_categories(visit: Visit, kind: ReportKind) -> list[str]:
    return list(_CATEGORIES[kind])


@hookimpl(trylast=True)
def follow_ups(visit: Visit) -> list[FollowUp]:
    outcome = visit.outcome
    if outcome is not None and outcome.cp_concern:
        return [FollowUp(text="The DSL reviews the concern raised on this visit today.", who=("dsl",), due_days=0)]
    return []


DFE_ATTENDANCE = "DfE Working together to improve school attendance (August 2024)"

CORE_TRIGGERS: tuple[AttendanceTrigger, ...] = (
    AttendanceTrigger(
        id="core.missing-education", title="Absent with no reason accepted, several days running",
        clause=f"{DFE_ATTENDANCE}: children missing education (absence with no contact)",
        measure=Measure.DAYS_ABSENT_UNEXPLAINED, threshold=3, option="missing_days", urgency=Urgency.URGENT),
    AttendanceTrigger(
        id="core.severe-absence", title="Severe absence (50% or more this school year)",
        clause=f"{DFE_ATTENDANCE}: severe absence", measure=Measure.ABSENCE_YEAR, threshold=50,
        option="severe_absence_percent", urgency=Urgency.SOON),
    AttendanceTrigger(
        id="core.unauthorised-sessions", title="Unauthorised absence: 10 sessions in 10 school weeks",
        clause=f"{DFE_ATTENDANCE}: national framework for penalty notices (10 sessions in 10 school weeks)",
        measure=Measure.UNAUTHORISED_10_WEEKS, threshold=10, option="unauthorised_sessions", urgency=Urgency.SOON),
    AttendanceTrigger(
        id="core.persistent-absence", title="Persistent absence (10% or more this school year)",
        clause=f"{DFE_ATTENDANCE}: persistent absence", measure=Measure.ABSENCE_YEAR, threshold=10,
        option="persistent_absence_percent"),
)
"""The national triggers every school has; a school's plugin may replace one by declaring a trigger with its id."""


@hookimpl(trylast=True)
def attendance_triggers() -> list[AttendanceTrigger]:
    return list(CORE_TRIGGERS)
