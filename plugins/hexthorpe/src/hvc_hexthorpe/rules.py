"""Hexthorpe's rules (``hexthorpe.*``): one small check per rule id, citing the section it comes from.

A check returns ``None`` when the rule holds, or a message telling staff what to do.
"""

from __future__ import annotations

from hv_connector.models import PolicyContext, Severity, Stage, Visit
from hv_connector.rules import RuleBook, escalation_advice
from hvc_hexthorpe.policy import COORDINATOR_ROLES, SAFEGUARDING_ROLES, SCHOOL, about_safeguarding, clause

BLOCK, INFO = Severity.BLOCK, Severity.INFO
PROCEDURES = clause("Procedures")
AFTER = clause("After the visit")
OVERDUE = clause("If staff are not back at the expected time")

book = RuleBook(SCHOOL)


@book.rule("hexthorpe.coordinated-by-pflo", stage=Stage.REQUEST, severity=BLOCK, clause=PROCEDURES,
           summary="The visit is planned and coordinated through the Pupil and Family Liaison Officer.",
           fields=("planned_with",))
def coordinated_by_pflo(visit: Visit, ctx: PolicyContext) -> str | None:
    for person in (visit.planned_with, visit.requested_by):
        if person is not None and person.has_any(COORDINATOR_ROLES):
            return None
    return "Plan this visit with the Pupil and Family Liaison Officer and record them as planning it."


@book.rule("hexthorpe.two-staff-always", stage=Stage.AUTHORISE, severity=BLOCK, clause=PROCEDURES,
           summary="Two members of staff go on every visit (a member of the admin team if no pastoral colleague "
                   "is free); never one alone.",
           fields=("staff",))
def two_staff_always(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.lone:
        return ("Add a second member of staff: Hexthorpe never visits alone. If nobody from the pastoral team "
                "is free, a member of the admin team goes.")
    return None


@book.rule("hexthorpe.phones-with-admin", stage=Stage.SIGN_OUT, severity=BLOCK, clause=PROCEDURES,
           summary="Both staff carry mobile phones, switched on, with the numbers given to the admin team.",
           fields=("staff", "phones_given_to_office"))
def phones_with_admin(visit: Visit, ctx: PolicyContext) -> str | None:
    without = [s.name for s in visit.staff if not s.mobile]
    if without:
        return ("Each member of staff on the visit carries a mobile phone: add a mobile number for "
                f"{', '.join(without)}.")
    if not visit.phones_given_to_office:
        return "Give both mobile numbers to the admin team and keep the phones switched on."
    return None


@book.rule("hexthorpe.hygiene", stage=Stage.SIGN_OUT, severity=INFO, clause=PROCEDURES,
           summary="Masks on visits; hands washed before leaving and on return, sanitised between visits "
                   "(a 2020 checklist item).",
           fields=("hygiene_checklist_done",))
def hygiene(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.hygiene_checklist_done:
        return None
    return "Wash your hands before you leave, take masks and sanitiser, and tick the hygiene checklist."


@book.rule("hexthorpe.slt-if-safeguarding", stage=Stage.AUTHORISE, severity=BLOCK, clause=PROCEDURES,
           summary="A visit of a safeguarding nature is discussed with the Principal or SLT first.",
           fields=("safeguarding", "safeguarding_discussed_with"))
def slt_if_safeguarding(visit: Visit, ctx: PolicyContext) -> str | None:
    if not about_safeguarding(visit):
        return None
    who = visit.safeguarding_discussed_with
    if who is not None and who.has_any(SAFEGUARDING_ROLES):
        return None
    return "This visit is about safeguarding: discuss it with the Principal or a member of SLT first, and record who."


@book.rule("hexthorpe.sign-out-reception", stage=Stage.SIGN_OUT, severity=BLOCK, clause=PROCEDURES,
           summary="Staff sign out at reception with the destination and expected return; the visit record is "
                   "copied to the admin team.",
           fields=("logged_with_office", "address", "expected_return"))
def sign_out_reception(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.logged_with_office:
        return None
    return ("Sign out at reception with the full address and when you expect to be back, and make sure the "
            "admin team has a copy of the visit record.")


@book.rule("hexthorpe.escalation", stage=Stage.RETURN, severity=BLOCK, clause=OVERDUE,
           summary="Staff not back at the agreed time: the admin team phones them, then the duty SLT is told, "
                   "and SLT calls the police where necessary.",
           fields=("expected_return", "returned_at", "check_ins", "escalation_started_at"))
def escalation(visit: Visit, ctx: PolicyContext) -> str | None:
    return escalation_advice(
        visit, ctx, concerns_alarm=True,
        alarm=("A contact from the visit raised a concern: tell the duty member of SLT now; SLT calls the police "
               "if needed."),
        overdue=("Staff are not back at the agreed time: the admin team phones them on their mobiles now; if there "
                 "is no answer or any worry, tell the duty member of SLT."),
        still_overdue=("Staff are still not back: the duty member of SLT decides what to do and calls the police "
                       "where necessary."))


@book.rule("hexthorpe.cpoms-record", stage=Stage.AFTER, severity=BLOCK, clause=AFTER,
           summary="A CPOMS record of the discussion and the action points is completed after the visit.",
           fields=("outcome.discussion", "outcome.action_points"))
def cpoms_record(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is not None and outcome.cancelled:
        return None
    if outcome is None or not outcome.discussion.strip():
        return "Write up what was discussed on the visit for the CPOMS record."
    if not outcome.action_points:
        return "List the action points agreed on the visit for the CPOMS record (write 'none' if there were none)."
    return None
