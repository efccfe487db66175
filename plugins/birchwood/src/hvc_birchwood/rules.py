"""Birchwood's rules (``birchwood.*``): one small check per rule id, citing the section it comes from.

A check returns ``None`` when the rule holds, or a message telling staff what to do.
"""

from __future__ import annotations

from datetime import time

from hv_connector.clock import local
from hv_connector.models import PolicyContext, Severity, Stage, Visit
from hv_connector.rules import RuleBook, Verdict, time_option
from hvc_birchwood.policy import (
    AUTHORISER_ROLES,
    HAZARD_NAMES,
    LINE_MANAGER_ROLES,
    REASONS,
    SCHOOL,
    clause,
)

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO

book = RuleBook(SCHOOL)


def family_concerns(visit: Visit, ctx: PolicyContext) -> bool:
    """Whether there is any concern about the family (Before the Visit).

    A visit made because of a safeguarding or welfare worry is itself such a concern,
    whether or not anyone also ticked the family's ``concerns``.
    """
    reason = ctx.reason(visit.reason)
    about_safeguarding = visit.safeguarding or (reason is not None and "safeguarding" in reason.tags)
    return visit.family.concerns or visit.family.known_violent_person or about_safeguarding


def concerns_mitigated(visit: Visit) -> bool:
    """Whether a risk assessment shows the concerns mitigated (Final note): one that was made, and says so."""
    assessment = visit.risk_assessment
    return assessment is not None and bool(assessment.hazards) and assessment.concerns_mitigated


@book.rule("birchwood.authorised-by-dsl-or-slt", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("authorisation of every visit (opening statement)"),
           summary="Only the safeguarding lead or a member of SLT may authorise a home visit.",
           fields=("authorised_by",))
def authorised_by_dsl_or_slt(visit: Visit, ctx: PolicyContext) -> str | None:
    who = visit.authorised_by
    if who is None:
        return "Ask the safeguarding lead (DSL) or a member of SLT to authorise this visit."
    if who.has_any(AUTHORISER_ROLES):
        return None
    return f"{who.name} cannot authorise home visits: ask the safeguarding lead (DSL) or a member of SLT."


@book.rule("birchwood.parents-informed", stage=Stage.REQUEST, severity=WARN,
           clause=clause("informing parents/carers (opening statement)"),
           summary="Parents/carers are told of the visit before staff arrive, unless they are not answering "
                   "about an absent child or it is an emergency safeguarding visit.",
           fields=("parents_informed", "parents_not_responding", "emergency"))
def parents_informed(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.parents_informed:
        return None
    # The exception is the situation (parents/carers not answering about an absent child),
    # whatever reason code the visit was filed under.
    if visit.parents_not_responding:
        return None
    if visit.emergency and visit.safeguarding:
        return None
    return "Let the parents/carers know about the visit before you arrive (phone or text them), and record it."


@book.rule("birchwood.reasons", stage=Stage.REQUEST, severity=BLOCK, clause=clause("Reasons for home visits"),
           summary="The visit is for one of the policy's reasons, and its purpose is clear.",
           fields=("reason", "purpose"))
def reasons(visit: Visit, ctx: PolicyContext) -> Verdict | None:
    if visit.reason not in {r.code for r in REASONS}:
        listed = "; ".join(r.label.lower() for r in REASONS)
        return Verdict(f"Birchwood makes home visits only for these reasons: {listed}. "
                       "Choose one, or meet the family another way.", fields=("reason",))
    if not visit.purpose.strip():
        return Verdict("Write down what this visit is for, so you can check a home visit is really needed.",
                       fields=("purpose",))
    return None


@book.rule("birchwood.second-staff-if-concerns", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("Before the Visit"),
           summary="If there are any concerns about the family, two members of staff go.",
           fields=("staff", "family"))
def second_staff_if_concerns(visit: Visit, ctx: PolicyContext) -> str | None:
    if family_concerns(visit, ctx) and visit.lone:
        return "There are concerns about this family: take another member of staff with you."
    return None


@book.rule("birchwood.risk-assessment-if-concerns", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("Before the Visit"),
           summary="If there are concerns, the line manager completes a risk assessment with the staff "
                   "before the visit.",
           fields=("risk_assessment.hazards", "risk_assessment.completed_with"))
def risk_assessment_if_concerns(visit: Visit, ctx: PolicyContext) -> str | None:
    if not family_concerns(visit, ctx):
        return None
    assessment = visit.risk_assessment
    if assessment is None or not assessment.hazards:
        return "There are concerns about this visit: complete the risk assessment with your line manager first."
    helper = assessment.completed_with
    if helper is None:
        return "Record which line manager completed the risk assessment with you."
    if not helper.has_any(LINE_MANAGER_ROLES):
        return f"{helper.name} is not a line manager: complete the risk assessment with your line manager."
    return None


@book.rule("birchwood.line-manager-informed", stage=Stage.SIGN_OUT, severity=BLOCK,
           clause=clause("Before the Visit"),
           summary="The line manager knows the address, the reason and roughly when staff will be back.",
           fields=("line_manager_informed",))
def line_manager_informed(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.line_manager_informed:
        return None
    return "Tell your line manager the address, the reason for the visit and roughly when you will be back."


@book.option("evening_from")
def evening_from(ctx: PolicyContext) -> time:
    """When the evening starts on the London clock (``evening_from`` option, default 17:00)."""
    return time_option(ctx, "evening_from", "17:00")


@book.rule("birchwood.no-evening-visits", stage=Stage.AUTHORISE, severity=WARN,
           clause=clause("Action to take if you are threatened"),
           summary="No evening home visits (strongly recommended): none that runs past 17:00 by default "
                   "(option evening_from).",
           fields=("planned_start", "expected_return"))
def no_evening_visits(visit: Visit, ctx: PolicyContext) -> str | None:
    evening = evening_from(ctx)
    start = local(visit.planned_start)
    end = local(visit.expected_return or visit.planned_start)
    if end.date() == start.date() and start.time() < evening and end.time() <= evening:
        return None
    return (f"This visit runs into the evening (after {evening:%H:%M}, London time); the policy strongly "
            "advises against evening visits: move it to the school day if you can.")


@book.rule("birchwood.safe-word", stage=Stage.SIGN_OUT, severity=BLOCK,
           clause=clause("Action to take if you are threatened"),
           summary="A safe word is agreed and recorded on the risk assessment.",
           fields=("risk_assessment.code_word",))
def safe_word(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.risk_assessment is not None and visit.risk_assessment.code_word_agreed:
        return None
    return ("Agree a safe word (to use with each other, or on the phone to school if you are in danger) "
            "and record it on the risk assessment.")


@book.rule("birchwood.no-solo-if-unmitigated", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("Final note"),
           summary="Nobody visits alone when concerns cannot be mitigated.",
           fields=("staff", "risk_assessment.concerns_mitigated"))
def no_solo_if_unmitigated(visit: Visit, ctx: PolicyContext) -> str | None:
    if not visit.lone:
        return None
    assessment = visit.risk_assessment
    if assessment is not None and not assessment.concerns_mitigated:
        return "The risk assessment says the concerns cannot be mitigated: do not go alone."
    # Silence is not mitigation: with concerns and no assessment showing them dealt with, the default is "not alone".
    if family_concerns(visit, ctx) and not concerns_mitigated(visit):
        return "There are concerns and no risk assessment shows them mitigated: do not go alone."
    return None


@book.rule("birchwood.phone-after-visit", stage=Stage.RETURN, severity=INFO, clause=clause("After the visit"),
           summary="Staff who are not going straight back to school phone school when they leave the home.",
           fields=("returning_to_school", "check_ins"))
def phone_after_visit(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.returning_to_school or any(c.kind == "left-home" for c in visit.check_ins):
        return None
    return "You are not going straight back to school: phone school as soon as you leave the home."


@book.rule("birchwood.cp-to-dsl-on-return", stage=Stage.AFTER, severity=BLOCK, clause=clause("After the visit"),
           summary="Child-protection concerns from a visit go to the DSL as soon as staff are back.",
           fields=("outcome.cp_concern", "outcome.cp_discussed_with_dsl"))
def cp_to_dsl_on_return(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None or not outcome.cp_concern or outcome.cp_discussed_with_dsl:
        return None
    return "Talk to the DSL about the child-protection concern now, before anything else, and record that you did."


@book.rule("birchwood.hazards", stage=Stage.AUTHORISE, severity=INFO,
           clause=clause("Appendix 1: Home visit Risk Assessment"),
           summary="The risk assessment covers Appendix 1's hazards (aggressive person, driving, public areas, "
                   "illness or injury, animals), each with controls and a rating.",
           fields=("risk_assessment.hazards",))
def hazards(visit: Visit, ctx: PolicyContext) -> str | None:
    rows = visit.risk_assessment.hazards if visit.risk_assessment else ()
    covered = {row.hazard for row in rows}
    missing = [name for name in HAZARD_NAMES if name not in covered]
    unfinished = [row.hazard for row in rows if not row.controls or row.rating is None]
    gaps = []
    if missing:
        gaps.append("add " + "; ".join(missing))
    if unfinished:
        gaps.append("give controls and a rating for " + "; ".join(unfinished))
    if not gaps:
        return None
    return "Complete the risk assessment from Appendix 1: " + ", and ".join(gaps) + "."
