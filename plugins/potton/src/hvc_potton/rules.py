"""Potton Primary School's home-visit rules, one small check per rule id.

Each rule cites the section of Potton's Home Visit Policy (October 2025) it
comes from. Where the policy text and the shared RULES.md disagree the policy
text wins; the plugin README lists those places.
"""

from __future__ import annotations

from datetime import time, timedelta

from hv_connector.clock import local
from hv_connector.models import PolicyContext, Severity, StaffMember, Stage, Visit
from hv_connector.rules import RuleBook, Verdict, contact_made, escalation_advice, hours_option, reported
from hvc_potton.policy import CHECKIN_AFTER_MINUTES, DEFAULT_SCHOOL_DAY, LEGAL_THRESHOLD, SCHOOL, clause

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO

MAX_WAIT_MINUTES = 15

KNOWN_RISKS = (("dangerous_animals", "animals", "the animals at the home"),
               ("known_violent_person", "aggression", "the known violent person"))
"""Family facts that need a matching ``risk_assessment.covers`` topic: (fact, topic, in words)."""

book = RuleBook(SCHOOL)

HOME_VISITS = clause("§3 Home visits")
PERSONAL_SAFETY = clause("§4 Personal safety")
TUTORING = clause("§6 Tutoring")
ATTENDANCE = clause("§7 Attendance officer visits")
SAFEGUARDING = clause("§8 Child protection and safeguarding")
RESPONSIBILITIES = clause("§2 Roles and responsibilities")


def _tagged(visit: Visit, ctx: PolicyContext, tag: str) -> bool:
    reason = ctx.reason(visit.reason)
    return reason is not None and tag in reason.tags


def about_safeguarding(visit: Visit, ctx: PolicyContext) -> bool:
    """The visit directly involves safeguarding or a statutory child-protection process."""
    return visit.safeguarding or visit.statutory_cp or _tagged(visit, ctx, "safeguarding")


def _is_head(person: StaffMember | None) -> bool:
    return person is not None and "headteacher" in person.roles


@book.option("school_day")
def school_day(ctx: PolicyContext) -> tuple[time, time]:
    """The configured school day (``school_day`` option: two ``"HH:MM"`` times)."""
    return hours_option(ctx, "school_day", DEFAULT_SCHOOL_DAY)


def outside_school_hours(visit: Visit, ctx: PolicyContext) -> bool:
    """Any part of the visit falls outside the school day on the London clock (weekends included)."""
    opens, closes = school_day(ctx)
    start = local(visit.planned_start)
    end = local(visit.expected_return) if visit.expected_return else start
    return (start.weekday() >= 5 or end.date() != start.date()
            or start.time() < opens or end.time() > closes)


# --- request -----------------------------------------------------------------------------------


@book.rule("potton.parent-agreement", stage=Stage.REQUEST, severity=WARN, clause=HOME_VISITS,
           summary="Visits are arranged in advance with the parents' agreement, unless there is an emergency "
                   "or immediate concern (no contact after an unauthorised absence, a safeguarding issue).",
           fields=("parents_informed", "parent_agreement", "emergency"))
def parent_agreement(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.emergency or visit.parents_not_responding or about_safeguarding(visit, ctx):
        return None
    if visit.parents_informed and visit.parent_agreement:
        return None
    return ("Arrange this visit with the parents in advance and record that they agree; if it is an emergency "
            "or an immediate concern, mark it as one.")


# --- authorise ---------------------------------------------------------------------------------


@book.rule("potton.headteacher-authorises", stage=Stage.AUTHORISE, severity=BLOCK, clause=HOME_VISITS,
           summary="The headteacher authorises every home visit (with the DSL's input where appropriate).",
           fields=("authorised_by",))
def headteacher_authorises(visit: Visit, ctx: PolicyContext) -> str | None:
    who = visit.authorised_by
    if who is None:
        return "Ask the headteacher to authorise this visit."
    if not _is_head(who):
        return f"{who.name} is not the headteacher: only the headteacher may authorise a Potton home visit."
    return None


@book.rule("potton.school-hours", stage=Stage.AUTHORISE, severity=BLOCK, clause=HOME_VISITS,
           summary="Visits happen in school hours; outside them only when absolutely necessary with no reasonable "
                   "alternative, and with a named contact checking on the staff's welfare.",
           fields=("planned_start", "expected_return", "out_of_hours_reason", "welfare_contact"))
def school_hours(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    if not outside_school_hours(visit, ctx):
        return None
    opens, closes = school_day(ctx)
    verdicts = []
    if not visit.out_of_hours_reason.strip():
        verdicts.append(Verdict(
            f"This visit falls outside school hours ({opens:%H:%M}–{closes:%H:%M} on weekdays): move it into "
            "school hours, or record why it is absolutely necessary and no other arrangement will do.",
            fields=("planned_start", "expected_return", "out_of_hours_reason")))
    contact = visit.welfare_contact
    if contact is None:
        verdicts.append(Verdict("Name a responsible contact who will check on the visiting staff's welfare "
                                "during this out-of-hours visit.", fields=("welfare_contact",)))
    elif any(s.id == contact.id for s in visit.staff):
        verdicts.append(Verdict(f"{contact.name} is on the visit: the welfare contact must be someone who "
                                "stays behind and checks on you.", fields=("welfare_contact",)))
    return verdicts or None


@book.rule("potton.two-staff-unless-head-agrees", stage=Stage.AUTHORISE, severity=BLOCK, clause=PERSONAL_SAFETY,
           summary="At least two staff go, unless the headteacher decides a lone visit is safe; a lone visit has "
                   "a lone-working risk assessment first.",
           fields=("staff", "lone_visit_agreed_by", "risk_assessment.lone_working"))
def two_staff_unless_head_agrees(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    if not visit.lone:
        return None
    verdicts = []
    if not _is_head(visit.lone_visit_agreed_by):
        verdicts.append(Verdict("Add a second member of staff, or ask the headteacher to decide that a lone "
                                "visit is safe and appropriate.", fields=("staff", "lone_visit_agreed_by")))
    if visit.risk_assessment is None or not visit.risk_assessment.lone_working:
        verdicts.append(Verdict("Carry out a lone-working risk assessment (Lone Working Policy) before a "
                                "single member of staff visits.", fields=("risk_assessment.lone_working",)))
    return verdicts or None


@book.rule("potton.risk-assessment", stage=Stage.AUTHORISE, severity=BLOCK, clause=PERSONAL_SAFETY,
           summary="The headteacher carries out the home-visit risk assessment, and updates it before the visit "
                   "when the visit brings new risks (animals, a known violent person).",
           fields=("risk_assessment", "risk_assessment.completed_by", "risk_assessment.covers"))
def risk_assessment(visit: Visit, ctx: PolicyContext) -> list[Verdict] | str | None:
    assessment = visit.risk_assessment
    if assessment is None:
        return "Ask the headteacher to carry out the home-visit risk assessment before the visit."
    verdicts = []
    if not _is_head(assessment.completed_by):
        verdicts.append(Verdict("The headteacher carries out the home-visit risk assessment: ask them to "
                                "complete it.", fields=("risk_assessment.completed_by",)))
    for fact, topic, words in KNOWN_RISKS:
        if getattr(visit.family, fact) and topic not in assessment.covers:
            verdicts.append(Verdict(f"Update the risk assessment to cover {words} before the visit.",
                                    fields=("risk_assessment.covers", f"family.{fact}")))
    return verdicts or None


@book.rule("potton.trained-and-dbs", stage=Stage.AUTHORISE, severity=BLOCK,
           clause=clause("§8 Child protection and safeguarding (DBS); §5 Training"),
           summary="Every visiting member of staff has an enhanced DBS check; where possible at least one is "
                   "trained in home visiting (a warning only).",
           fields=("staff",))
def trained_and_dbs(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    verdicts = []
    unchecked = [s.name for s in visit.staff if s.dbs != "enhanced"]
    if unchecked:
        verdicts.append(Verdict(f"No enhanced DBS check is on record for {', '.join(unchecked)}: send staff "
                                "with an enhanced DBS and barred-list check, or complete the check first."))
    if visit.staff and not any(s.home_visit_trained for s in visit.staff):
        verdicts.append(Verdict("Where you can, send someone trained in home visiting (e.g. the education "
                                "welfare officer) with this visit.", severity=WARN))
    return verdicts or None


@book.rule("potton.dsl-attends-safeguarding", stage=Stage.AUTHORISE, severity=BLOCK, clause=SAFEGUARDING,
           summary="The DSL goes on every visit that directly involves safeguarding or is part of a statutory "
                   "child-protection process.",
           fields=("staff", "safeguarding", "statutory_cp"))
def dsl_attends_safeguarding(visit: Visit, ctx: PolicyContext) -> str | None:
    if not about_safeguarding(visit, ctx) or any("dsl" in s.roles for s in visit.staff):
        return None
    return "This visit is about safeguarding: the DSL must go on it. Add the DSL to the visiting staff."


# --- sign-out ----------------------------------------------------------------------------------


@book.rule("potton.log-before-visit", stage=Stage.SIGN_OUT, severity=BLOCK, clause=HOME_VISITS,
           summary="Before the visit the office holds a log of the expected time, the location and who is going, "
                   "and the mobile numbers staff carry (§4).",
           fields=("logged_with_office", "phones_given_to_office"))
def log_before_visit(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    verdicts = []
    if not visit.logged_with_office:
        verdicts.append(Verdict("Fill in the home-visit log in the office (time, address, who is going) "
                                "before you leave.", fields=("logged_with_office",)))
    if not visit.phones_given_to_office:
        verdicts.append(Verdict("Give the office the number of the mobile phone you are taking.",
                                fields=("phones_given_to_office",)))
    return verdicts or None


@book.rule("potton.code-word", stage=Stage.SIGN_OUT, severity=BLOCK, clause=PERSONAL_SAFETY,
           summary="A code word is agreed so staff can discreetly ask for help on a call or text.",
           fields=("risk_assessment.code_word",))
def code_word(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.risk_assessment is not None and visit.risk_assessment.code_word_agreed:
        return None
    return "Agree a code word with the office before you leave, so you can ask for help without saying so."


@book.rule("potton.vehicle-details", stage=Stage.SIGN_OUT, severity=WARN, clause=PERSONAL_SAFETY,
           summary="The school holds the make, model, registration and colour of the car used.",
           fields=("vehicle",))
def vehicle_details(visit: Visit, ctx: PolicyContext) -> str | None:
    if visit.travel != "car" or (visit.vehicle is not None and visit.vehicle.complete):
        return None
    return "Give the office the make, model, registration and colour of the car you are taking."


# --- during ------------------------------------------------------------------------------------


@book.rule("potton.wait-15-minutes", stage=Stage.DURING, severity=BLOCK, clause=HOME_VISITS,
           summary="If the parents are not there at the arranged time, staff wait no more than 15 minutes and "
                   "then cancel the visit.",
           fields=("outcome.parents_present_on_arrival", "outcome.waited_minutes", "outcome.cancelled",
                   "check_ins"))
def wait_15_minutes(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None:  # staff still out: §3 applies to what they report at the door
        if reported(visit, "parents_present") is not False:
            return None
        waited = reported(visit, "waited_minutes")
    else:
        if outcome.parents_present_on_arrival is not False:
            return None
        waited = outcome.waited_minutes
        if waited is None and outcome.arrived_at is not None and not (outcome.cancelled or outcome.entered_home):
            waited = int((ctx.now - outcome.arrived_at).total_seconds() // 60)
    if waited is None or waited <= MAX_WAIT_MINUTES:
        return None
    return (f"The parents were not there and the wait has reached {waited} minutes: wait no more than "
            f"{MAX_WAIT_MINUTES}, then cancel the visit and tell the office.")


@book.rule("potton.cancel-if-unsafe", stage=Stage.DURING, severity=BLOCK, clause=HOME_VISITS,
           summary="Staff do not go in if they feel unsafe; a visit cancelled for safety has its reason sent to "
                   "the headteacher in writing.",
           fields=("outcome.cancelled_for_safety", "outcome.cancellation_reason", "outcome.cancellation_sent_to_head"))
def cancel_if_unsafe(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None or not outcome.cancelled_for_safety:
        return None
    if outcome.cancellation_reason.strip() and outcome.cancellation_sent_to_head:
        return None
    return "You cancelled for safety: write down why and send it to the headteacher."


@book.rule("potton.animals", stage=Stage.DURING, severity=BLOCK, clause=HOME_VISITS,
           summary="Potentially dangerous animals are kept in another room or outside during the visit; if the "
                   "family cannot do this, the visit is cancelled.",
           fields=("outcome.dangerous_animals_present", "outcome.animals_secured", "outcome.cancelled", "check_ins"))
def animals(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if outcome is None:  # staff still out: §3 applies to an animal they report loose
        if reported(visit, "animals_secured") is not False:
            return None
    elif not outcome.dangerous_animals_present or outcome.animals_secured or outcome.cancelled:
        return None
    return ("Ask the family to shut the animals in another room or put them outside for the visit; if they "
            "will not or cannot, cancel the visit.")


@book.rule("potton.checkin-10-minutes", stage=Stage.DURING, severity=BLOCK, clause=PERSONAL_SAFETY,
           summary="The office phones the staff 10 minutes after the scheduled start; staff tell the office when "
                   "they leave the home and whether there are concerns.",
           fields=("check_ins",))
def checkin_10_minutes(visit: Visit, ctx: PolicyContext) -> list[Verdict] | None:
    if visit.signed_out_at is None or visit.record_of_past_visit:
        return None
    verdicts = []
    due = visit.planned_start + timedelta(minutes=CHECKIN_AFTER_MINUTES)
    # A call either way is the 10-minute contact: a call the staff make to the office counts, as the
    # watch counts it. A visit cancelled at the door ends with the staff's call, even one made just
    # before the scheduled start, so there is nothing left to check on ten minutes in.
    cancelled = visit.outcome is not None and visit.outcome.cancelled
    since = visit.signed_out_at if cancelled else visit.planned_start
    if ctx.now >= due and not contact_made(visit, "office-call", since=since):
        verdicts.append(Verdict(f"Office: the check-in call was due at {local(due):%H:%M}, "
                                f"{CHECKIN_AFTER_MINUTES} minutes after the start. Phone the visiting staff now "
                                "and record the call."))
    departed = visit.outcome.departed_at if visit.outcome else None
    if departed is not None and not any(c.kind == "left-home" for c in visit.check_ins):
        verdicts.append(Verdict("Phone the office to say you have left the home, and whether there are any "
                                "concerns."))
    return verdicts or None


@book.rule("potton.tutoring-room", stage=Stage.DURING, severity=INFO, clause=TUTORING,
           summary="Tutoring happens in a suitable room with the door open and an adult at home, not in the "
                   "pupil's bedroom unless there is no other space.",
           fields=("outcome.tutoring_room", "outcome.parent_present_inside"))
def tutoring_room(visit: Visit, ctx: PolicyContext) -> str | None:
    if not _tagged(visit, ctx, "tuition"):
        return None
    outcome = visit.outcome
    room = outcome.tutoring_room.strip().lower() if outcome else ""
    if outcome is not None and room and "bedroom" not in room and outcome.parent_present_inside:
        return None
    return ("Tutor in a suitable room with the door kept open and an adult in the home; use the pupil's "
            "bedroom only if there is no other space, and record the room used.")


# --- return ------------------------------------------------------------------------------------


@book.rule("potton.escalation", stage=Stage.RETURN, severity=BLOCK, clause=HOME_VISITS,
           summary="When staff cannot be contacted, the headteacher is told at once and decides what to do; the "
                   "police are called where there is concern for their welfare.",
           fields=("expected_return", "returned_at", "check_ins", "escalation_started_at"))
def escalation(visit: Visit, ctx: PolicyContext) -> str | None:
    return escalation_advice(
        visit, ctx, concerns_alarm=False,
        alarm="The code word was used: call the police (999) now, then tell the headteacher.",
        overdue=("Staff are past their expected return: the office phones them now and, if they cannot be "
                 "reached, tells the headteacher at once."),
        still_overdue=("Staff are overdue and the headteacher has been told: follow the headteacher's decision, "
                       "and call the police if there is any concern for their welfare."))


# --- after -------------------------------------------------------------------------------------


@book.rule("potton.see-the-child", stage=Stage.AFTER, severity=WARN, clause=RESPONSIBILITIES,
           summary="On a welfare visit staff see and speak with the pupil where safe and appropriate, and the "
                   "report says whether they did.",
           fields=("outcome.child_seen", "outcome.child_spoken_to"))
def see_the_child(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    welfare = _tagged(visit, ctx, "welfare") or about_safeguarding(visit, ctx)
    if not welfare or outcome is None or outcome.cancelled:
        return None
    if outcome.child_seen is None or outcome.child_spoken_to is None:
        return "Say in the report whether you saw the pupil and whether you spoke with them."
    if not (outcome.child_seen and outcome.child_spoken_to):
        return ("This welfare visit did not see and speak with the pupil: say why in the report and agree with "
                "the DSL how the pupil will be seen.")
    return None


@book.rule("potton.attendance-agreements", stage=Stage.AFTER, severity=INFO, clause=ATTENDANCE,
           summary="Agreements made with parents on an attendance visit go in the pupil's attendance record; "
                   "broken agreements lead to a reminder letter, then a follow-up visit.",
           fields=("outcome.agreements",))
def attendance_agreements(visit: Visit, ctx: PolicyContext) -> str | None:
    outcome = visit.outcome
    if not _tagged(visit, ctx, "attendance") or outcome is None or outcome.cancelled or outcome.agreements:
        return None
    return ("Record the agreements you made with the parents: they go in the pupil's attendance record, and a "
            "reminder letter follows if they are not kept.")


@book.rule("potton.attendance-below-70", stage=Stage.AFTER, severity=WARN, clause=ATTENDANCE,
           summary="Attendance below 70% over three months is reported to the authorities so legal proceedings "
                   "can be considered; when the figure is not available, the rule says it cannot check.",
           fields=("pupil.attendance_3m",))
def attendance_below_70(visit: Visit, ctx: PolicyContext) -> str | None:
    attendance = visit.pupil.attendance_3m
    if attendance is None:
        # Unknown is not "above 70%": the duty in §7 cannot be checked, and the person closing the visit must know.
        where = ("this pupil is not in the MIS data" if not visit.pupil.known_in_mis
                 else "the MIS has not shared the pupil's register (session marks)")
        return (f"Attendance over the last three months cannot be checked: {where}. Ask the attendance officer "
                f"whether it is below {LEGAL_THRESHOLD:.0f}%, and if so notify the local authority.")
    if attendance >= LEGAL_THRESHOLD:
        return None
    return (f"Attendance over the last three months is {attendance:.0f}%, below {LEGAL_THRESHOLD:.0f}%: notify "
            "the local authority so that legal proceedings can be considered.")
