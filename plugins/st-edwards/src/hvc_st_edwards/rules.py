"""St Edwards Catholic Primary School's home-visit rules, one small check per rule id.

The policy is the Trust's Home Visits Policy as adopted by the school (not
dated, no review date). Each rule cites the section it comes from; where the
policy text and the shared RULES.md disagree the policy text wins, and the
plugin README says where.
"""

from __future__ import annotations

from datetime import time, timedelta

from hv_connector.clock import local
from hv_connector.models import PolicyContext, Severity, StaffMember, Stage, Visit
from hv_connector.rules import OptionError, RuleBook, Verdict, hours_option, reported
from hvc_st_edwards.policy import ALTERNATIVES, MANAGER_ROLES, SCHOOL, SCHOOL_HOURS, SIGN_OFF_ROLES, TOPICS, clause

BLOCK, WARN = Severity.BLOCK, Severity.WARN

book = RuleBook(SCHOOL)

GENERAL = clause("§1 General")
PROCEDURES = clause("§4 Procedures")
RISK_MANAGEMENT = clause("§6 Risk Management")
REVIEW = clause("§8 Monitoring and Review")


@book.option("delegates")
def delegates(ctx: PolicyContext) -> tuple[str, ...]:
    """Directory ids of the people the headteacher delegated risk sign-off to (``delegates`` option)."""
    named = ctx.option("delegates", ())
    if isinstance(named, str):  # one delegate, written without a list
        named = (named,)
    if not isinstance(named, (list, tuple)) or not all(isinstance(n, str) for n in named):
        raise OptionError(SCHOOL, "delegates", named, 'give staff directory ids, e.g. ["se-lm"]')
    return tuple(named)


@book.option("school_day")
def school_day(ctx: PolicyContext) -> tuple[time, time]:
    """The configured school day (``school_day`` option: two ``"HH:MM"`` times)."""
    return hours_option(ctx, "school_day", SCHOOL_HOURS)


def signs_off(person: StaffMember | None, ctx: PolicyContext) -> bool:
    """The headteacher, the designated person, or someone the headteacher named (``delegates`` option)."""
    if person is None:
        return False
    return person.has_any(SIGN_OFF_ROLES) or person.id in delegates(ctx)


def out_of_school_hours(visit: Visit, ctx: PolicyContext) -> bool:
    """Whether the meeting runs, even in part, outside the London school day or at a weekend."""
    first, last = school_day(ctx)
    begins = local(visit.planned_start)
    ends = local(visit.expected_return or visit.planned_start)
    in_hours = begins.weekday() < 5 and begins.date() == ends.date() and first <= begins.time() and ends.time() <= last
    return not in_hours


def emergency_met(visit: Visit) -> bool:
    """Whether the visit was, or turned into, an emergency (§1 General).

    One known when it was planned is ``visit.emergency``; one that shows itself only at the door
    (a child found alone and at risk) is recorded at a check-in or in the report.
    """
    outcome = visit.outcome
    return (visit.emergency or any(c.emergency for c in visit.check_ins)
            or (outcome is not None and outcome.emergency))


# --- request -----------------------------------------------------------------------------------


@book.rule("st-edwards.purpose-agreed", stage=Stage.REQUEST, severity=BLOCK, clause=GENERAL,
           summary="The purpose of the visit is agreed with the member of staff's manager.",
           fields=("purpose", "planned_with"))
def purpose_agreed(visit: Visit, ctx: PolicyContext) -> str | None:
    if not visit.purpose.strip():
        return "Write down the purpose of the visit and agree it with your manager."
    manager = visit.planned_with
    if manager is None:
        return "Agree the purpose of the visit with your manager, and record who agreed it."
    if not manager.has_any(MANAGER_ROLES):
        return (f"{manager.name} is not a manager: agree the purpose with your line manager, the DSL or a "
                "senior leader.")
    return None


@book.rule("st-edwards.alternatives-first", stage=Stage.REQUEST, severity=WARN, clause=PROCEDURES,
           summary="Alternatives are considered first, in order — a Teams call, a meeting elsewhere, public "
                   "premises, private premises — with the reason each will not do recorded.",
           fields=("alternatives_considered",))
def alternatives_first(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.emergency:
        return None
    considered = {a.method for a in visit.alternatives_considered}
    missing = [words for method, words in ALTERNATIVES if method not in considered]
    if not missing:
        return None
    return ("Before visiting the home, record why each of these will not do: " + "; ".join(missing) + ".")


@book.rule("st-edwards.avoid-unannounced", stage=Stage.REQUEST, severity=WARN, clause=GENERAL,
           summary="Unannounced visits are avoided wherever possible.",
           fields=("parents_informed", "emergency"))
def avoid_unannounced(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.parents_informed or visit.emergency:
        return None
    return "Tell the family you are coming, unless the visit is an emergency (then mark it as one)."


# --- authorise ---------------------------------------------------------------------------------


@book.rule("st-edwards.risk-assessment-always", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("§1 General; §6 Risk Management"),
           summary="Every planned visit has a risk assessment first, covering the pupil's behaviour, the "
                   "environment, home circumstances, the travel route and means, the time of day and length, "
                   "and mobile coverage.",
           fields=("risk_assessment", "risk_assessment.covers"))
def risk_assessment_always(visit: Visit, ctx: PolicyContext) -> Verdict | None:
    # The policy requires it before a *planned* visit: an emergency visit gets a warning, not a block.
    severity = WARN if visit.emergency else None
    assessment = visit.risk_assessment
    if assessment is None:
        return Verdict("Complete the risk assessment for this visit before it is authorised.", severity=severity)
    missing = [words for code, words in TOPICS if code not in assessment.covers]
    if not missing:
        return None
    return Verdict("The risk assessment must also cover " + "; ".join(missing) + ".", severity=severity,
                   fields=("risk_assessment.covers",))


@book.rule("st-edwards.no-info-no-solo", stage=Stage.AUTHORISE, severity=BLOCK, clause=GENERAL,
           summary="When little or nothing is known about the family, the visit is not made alone.",
           fields=("family.information", "staff"))
def no_info_no_solo(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.family.information != "little-or-none" or not visit.lone:
        return None
    return "Little is known about this family: take a second member of staff with you."


@book.rule("st-edwards.out-of-hours-second-staff", stage=Stage.AUTHORISE, severity=BLOCK, clause=PROCEDURES,
           summary="Outside school hours a second member of staff comes, preferably into the meeting; if not, "
                   "they are nearby and interrupt at least once with an agreed password.",
           fields=("staff", "nearby_staff", "risk_assessment.code_word"))
def out_of_hours_second_staff(visit: Visit, ctx: PolicyContext) -> Verdict | None:
    if not visit.lone or not out_of_school_hours(visit, ctx):
        return None
    if visit.nearby_staff is None:
        return Verdict("This visit is outside school hours: a second member of staff must come, in the meeting "
                       "if possible, or at least nearby.", fields=("staff", "nearby_staff"))
    if visit.risk_assessment is None or not visit.risk_assessment.code_word_agreed:
        return Verdict(f"Agree the password {visit.nearby_staff.name} will use to interrupt the meeting at "
                       "least once.", fields=("risk_assessment.code_word",))
    return None


@book.rule("st-edwards.signed-off", stage=Stage.AUTHORISE, severity=BLOCK, clause=RISK_MANAGEMENT,
           summary="The risk controls are signed off by the headteacher or the person the headteacher delegates.",
           fields=("risk_assessment.signed_off_by",))
def signed_off(visit: Visit, ctx: PolicyContext) -> str | None:
    assessment = visit.risk_assessment
    who = assessment.signed_off_by if assessment else None
    if who is None:
        return "Ask the headteacher (or their delegate) to sign off the risk controls before the visit."
    if not signs_off(who, ctx):
        return (f"{who.name} cannot sign off the risk controls: ask the headteacher or the person they have "
                "delegated.")
    return None


# --- sign-out ----------------------------------------------------------------------------------


# Checked from sign-out, not only once staff are out: the interval and the missed-report procedure
# must be agreed while someone can still act on their absence (§4 Procedures, §6 Risk Management).
@book.rule("st-edwards.regular-contact", stage=Stage.SIGN_OUT, severity=BLOCK, clause=PROCEDURES,
           summary="Staff and school are in contact at agreed intervals (a buddy system), with a set procedure "
                   "for a missed report-back.",
           fields=("risk_assessment.contact_interval_minutes", "risk_assessment.missed_contact_procedure",
                   "check_ins"))
def regular_contact(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    assessment = visit.risk_assessment
    interval = assessment.contact_interval_minutes if assessment else None
    verdicts = []
    if interval is None:
        verdicts.append(Verdict("Agree how often you and the office will be in contact during the visit, and "
                                "put it in the risk assessment.",
                                fields=("risk_assessment.contact_interval_minutes",)))
    if assessment is None or not (assessment.missed_contact_procedure or "").strip():
        verdicts.append(Verdict("Write down in the risk assessment what the office does if you do not report "
                                "back on time.", fields=("risk_assessment.missed_contact_procedure",)))
    last = visit.last_contact()
    if interval is not None and visit.returned_at is None and last is not None:
        due = last + timedelta(minutes=interval)
        if ctx.now > due:
            verdicts.append(Verdict(f"Contact was due at {local(due):%H:%M} ({interval}-minute interval): office, "
                                    "call the staff and their buddy now; with no answer, follow the missed-report "
                                    "procedure.", fields=("check_ins",)))
    return verdicts or None


# --- during ------------------------------------------------------------------------------------


@book.rule("st-edwards.no-entry-without-parent", stage=Stage.DURING, severity=BLOCK, clause=GENERAL,
           summary="Staff do not go into a home when the parent or carer is not there, except in an emergency.",
           fields=("outcome.entered_home", "outcome.parent_present_inside", "emergency", "outcome.emergency",
                   "check_ins"))
def no_entry_without_parent(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    # §1 applies while staff are there: before the report, to what they said at their check-ins.
    entered = reported(visit, "entered_home") if outcome is None else outcome.entered_home
    parent_in = reported(visit, "parents_present") if outcome is None else outcome.parent_present_inside
    if not entered or parent_in is not False:
        return None
    if emergency_met(visit):
        return None
    return ("No parent or carer is in: leave the home now and tell the office. If you went in because of an "
            "emergency (a child alone and at risk), record it in the report.")


# --- after -------------------------------------------------------------------------------------


@book.rule("st-edwards.arrival-departure-times", stage=Stage.AFTER, severity=BLOCK, clause=GENERAL,
           summary="The visit record gives the times of arrival and departure.",
           fields=("outcome.arrived_at", "outcome.departed_at"))
def arrival_departure_times(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None or (outcome.cancelled and outcome.arrived_at is None):
        return None
    missing = [word for word, at in (("arrival", outcome.arrived_at), ("departure", outcome.departed_at))
               if at is None]
    if not missing:
        return None
    return f"Add the time of {' and '.join(missing)} to the visit record."


@book.rule("st-edwards.report-to-head", stage=Stage.AFTER, severity=BLOCK, clause=REVIEW,
           summary="The visiting staff report on the visit to the headteacher or the designated person.",
           fields=("outcome.reported_to_head",))
def report_to_head(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.outcome is None or visit.outcome.reported_to_head:
        return None
    return "Report on the visit to the headteacher or the designated person, and record that you have."
