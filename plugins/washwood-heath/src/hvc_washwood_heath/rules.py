"""Washwood Heath's rules (``washwood-heath.*``): one small check per rule id, citing its section.

A check returns ``None`` when the rule holds, or a message (or :class:`Verdict`) telling staff what to do.
"""

from __future__ import annotations

from datetime import timedelta

from hv_connector.clock import local
from hv_connector.models import EscalationStep, PolicyContext, Severity, Stage, Visit
from hv_connector.rules import RuleBook, Verdict, alarm_raised, overdue_by, staff_away
from hvc_washwood_heath.policy import (
    ESCALATION,
    LATEST_START,
    LEADERSHIP_ROLES,
    LINE_MANAGER_ROLES,
    OFFICE_OPENS,
    REFERRED,
    SCHOOL,
    clause,
    out_of_hours,
)

BLOCK = Severity.BLOCK
PROCEDURES = clause("Procedures")
SAFETY = clause("Employees safety")

book = RuleBook(SCHOOL)


@book.rule("washwood-heath.accompanied", stage=Stage.AUTHORISE, severity=BLOCK, clause=PROCEDURES,
           summary="Another member of Washwood Heath staff always goes too.", fields=("staff",))
def accompanied(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.lone:
        return "Take another member of Washwood Heath staff with you: nobody makes a home visit alone."
    return None


@book.rule("washwood-heath.coordinated-by-line-manager", stage=Stage.REQUEST, severity=BLOCK, clause=PROCEDURES,
           summary="The visit is planned through the line manager or a member of the leadership team.",
           fields=("planned_with",))
def coordinated_by_line_manager(visit: Visit, ctx: PolicyContext) -> str | None:
    roles = (*LINE_MANAGER_ROLES, *LEADERSHIP_ROLES)
    if any(p is not None and p.has_any(roles) for p in (visit.planned_with, visit.requested_by)):
        return None
    return "Plan this visit with your line manager or a member of the leadership team, and record who."


@book.rule("washwood-heath.external-referral-plan", stage=Stage.REQUEST, severity=BLOCK,
           clause=clause("Reasons for a home visit"),
           summary="A visit to a family referred by another service is coordinated with that service, with a plan "
                   "to find out the risks first.",
           fields=("external_referral",))
def external_referral_plan(visit: Visit, ctx: PolicyContext) -> str | None:
    referral = visit.external_referral
    if referral is None:
        if visit.reason == REFERRED:
            return "Name the service that referred this family, and coordinate the visit with them."
        return None
    todo = []
    if not referral.coordinated:
        todo.append(f"coordinate the visit with {referral.service}")
    if not referral.risk_plan:
        todo.append("put a plan in place to find out the risks before you go")
    return ("This family was referred by another service: " + " and ".join(todo) + ".") if todo else None


def _when(visit: Visit) -> str:
    start = local(visit.planned_start)
    if start.weekday() >= 5:
        return "at a weekend"
    if start.time() < OFFICE_OPENS:
        return f"at {start:%H:%M} London time, before the office opens at {OFFICE_OPENS:%H:%M}"
    return f"at {start:%H:%M} London time, after {LATEST_START:%H:%M}"


@book.rule("washwood-heath.not-after-4pm", stage=Stage.AUTHORISE, severity=BLOCK, clause=SAFETY,
           summary="No visit is arranged to start after 16:00 (London time); an out-of-hours visit is arranged "
                   "with SLT, and staff tell their line manager when they are home safe.",
           fields=("planned_start", "out_of_hours_arranged_by"))
def not_after_4pm(visit: Visit, ctx: PolicyContext) -> str | Verdict | None:
    if not out_of_hours(visit):
        return None
    arranged = visit.out_of_hours_arranged_by
    if arranged is None or not arranged.has_any(LEADERSHIP_ROLES):
        return (f"This visit starts {_when(visit)}, outside office hours: move it into the school day, or have a "
                "member of SLT arrange it and record who.")
    return Verdict("After this out-of-hours visit, phone or text your line manager when you are home safe.",
                   severity=Severity.INFO)


@book.rule("washwood-heath.sign-out", stage=Stage.SIGN_OUT, severity=BLOCK, clause=PROCEDURES,
           summary="Staff sign out at reception with the destination and expected return; the home visits folder "
                   "logs leave time, due-back time and address.",
           fields=("logged_with_office", "address", "expected_return"))
def sign_out(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.logged_with_office:
        return None
    return ("Sign out at reception and write the visit in the home visits folder: when you leave, when you are "
            "due back and the address.")


_ENTRY_CONCERNS = {
    "under-influence": "the person at the door seemed to be under the influence of drink or drugs",
    "arranged-person-absent": "the person you arranged to see was not in",
    "known-violent-person": "someone known to be violent was in the household",
}


@book.rule("washwood-heath.do-not-enter", stage=Stage.DURING, severity=BLOCK, clause=SAFETY,
           summary="Staff do not go in if the person seems under the influence, the arranged person is not in, or "
                   "someone known to be violent is there.",
           fields=("outcome.entry_concerns", "outcome.entered_home"))
def do_not_enter(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None or not outcome.entry_concerns or not outcome.entered_home:
        return None
    why = "; ".join(_ENTRY_CONCERNS[c] for c in outcome.entry_concerns)
    return f"Leave the home now ({why}) and arrange to meet the family another way."


def _step_due(overdue: timedelta) -> EscalationStep:
    """The step of the chain whose turn it is when staff are ``overdue``."""
    reached = timedelta()
    for step in ESCALATION:
        reached += timedelta(minutes=step.wait_minutes)
        if overdue < reached:
            return step
    return ESCALATION[-1]


@book.rule("washwood-heath.escalation", stage=Stage.RETURN, severity=BLOCK,
           clause=clause("Procedures (not back at the expected time)"),
           summary="Staff not back on time: the office manager phones them, then the student's home, then SLT are "
                   "told, and SLT call the police where necessary.",
           fields=("expected_return", "returned_at", "check_ins"))
def escalation(visit: Visit, ctx: PolicyContext) -> str | None:
    if not staff_away(visit):
        return None
    if alarm_raised(visit, concerns=True):
        return ("A contact from the visit gave cause for concern: tell the relevant members of SLT now; they call "
                "the police where necessary.")
    late = overdue_by(visit, ctx)
    if late is None:
        return None
    return f"Staff are {late.total_seconds() // 60:.0f} minutes late back. Now: {_step_due(late).action}"


@book.rule("washwood-heath.incident-report", stage=Stage.AFTER, severity=BLOCK,
           clause=clause("Reporting and recording incidents"),
           summary="Any violence or abuse, verbal included, is reported to the line manager on an incident report "
                   "sheet.",
           fields=("outcome.violence_or_abuse", "outcome.incident_reported_to_line_manager"))
def incident_report(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None or not outcome.violence_or_abuse or outcome.incident_reported_to_line_manager:
        return None
    return ("Fill in an incident report sheet about the violence or abuse (verbal abuse too) and give it to your "
            "line manager as soon as you can.")


@book.rule("washwood-heath.cp-training", stage=Stage.AUTHORISE, severity=BLOCK, clause=clause("Policy Statement"),
           summary="Everyone on the visit has had child-protection training.", fields=("staff",))
def cp_training(visit: Visit, ctx: PolicyContext) -> str | None:
    untrained = [s.name for s in visit.staff if s.cp_trained_on is None]
    if not untrained:
        return None
    return (f"No child-protection training is on record for {', '.join(untrained)}: only trained staff make home "
            "visits, so record their training or send someone else.")


@book.rule("washwood-heath.cpoms-upload", stage=Stage.AFTER, severity=BLOCK, clause=PROCEDURES,
           summary="The record of the discussion and the action points is uploaded to CPOMS.",
           fields=("outcome.discussion", "outcome.action_points"))
def cpoms_upload(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is not None and outcome.cancelled:
        return None
    missing = []
    if outcome is None or not outcome.discussion.strip():
        missing.append("what was discussed")
    if outcome is None or not outcome.action_points:
        missing.append("the action points (or 'none')")
    return f"Record {' and '.join(missing)} so the record can go to CPOMS." if missing else None
