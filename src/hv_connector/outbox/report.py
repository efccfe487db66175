"""The record a finished visit leaves in CPOMS, built from the visit itself (never retyped).

:func:`build_reports` turns a :class:`~hv_connector.models.Visit` (with its
outcome), the decisions taken on it and the school's policy answers
(``cpoms_categories``, ``follow_ups``) into one :class:`VisitReport` for the
visit and, when a concern arose (``outcome.cp_concern`` or a check-in that
flagged one), a second ``concern`` report that goes first and alerts the DSL.

A report is sink-neutral: category *names* (the sink maps them to the school's
ids), people by name and e-mail, and ``description``, the whole record as a
plain-text block for systems that only take free text (CPOMS incidents are
free text). It is dated to when the visit happened so it sits in the right
place in the pupil's chronology.

The safe/code word is never read here: reports are built field by field from
the visit, so the word cannot reach CPOMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import AwareDatetime, Field

from hv_connector import humanize
from hv_connector.clock import local
from hv_connector.models import FollowUp, Frozen, ReportKind, StaffMember, Visit, VisitOutcome
from hv_connector.plugins import Policies

AUTHORISED = "Visit authorised"
"""The authorisation's name among a report's decisions."""

Outcome = Literal["child_seen", "child_seen_alone", "parent_seen_child_not_seen", "no_answer", "refused_entry"]
VisitType = Literal["planned", "welfare_check", "attendance", "cme_enquiry", "emergency"]


class Person(Frozen):
    """Someone named in a report: staff by directory id, name and e-mail; family by relationship."""

    name: str
    email: str | None = None
    role: str = ""
    """Staff roles (``pflo, dsl``) or a family member's relationship (``mother``)."""


class Decision(Frozen):
    """A decision taken on the visit, with its reason: authorisation, an override, a cancellation."""

    what: str
    by: str = ""
    at: AwareDatetime | None = None
    reason: str = ""


class Action(Frozen):
    """An action point or policy follow-up, sent as a CPOMS action."""

    text: str = Field(min_length=1)
    who: tuple[str, ...] = ()
    due_on: date | None = None


class VisitReport(Frozen):
    """One CPOMS record about a visit: the routine report, or the concern raised on it."""

    record_id: str = Field(min_length=1)
    """Our reference in CPOMS (``source.record_id``): the visit id, plus ``/concern`` for a concern."""
    revision: int = Field(default=1, ge=1)
    kind: ReportKind
    school: str
    pupil_name: str
    upn: str | None = None
    mis_id: str | None = None
    """The MIS's own id for the pupil (never the MIS feed's record id, which CPOMS does not know)."""
    date_of_birth: date | None = None
    categories: tuple[str, ...] = Field(min_length=1, max_length=3)
    """Category names from the school's policy plugin, most specific first."""
    occurred_at: AwareDatetime
    """When the visit happened (arrival, else the planned start), or when the concern was raised."""
    reason: str
    visit_type: VisitType = "planned"
    visitors: tuple[Person, ...] = ()
    reported_by: Person | None = None
    arrived_at: AwareDatetime | None = None
    departed_at: AwareDatetime | None = None
    child_seen: bool | None = None
    child_seen_alone: bool | None = None
    child_spoken_to: bool | None = None
    child_words: str = ""
    persons_present: tuple[Person, ...] = ()
    home_conditions: str = ""
    discussion: str = ""
    agreements: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    """Action points recorded on the visit, then the policy's follow-ups."""
    follow_up_on: date | None = None
    concerns: str = ""
    violence_or_abuse: str = ""
    """Any violence or abuse towards staff, in words; empty when there was none."""
    safety: str = ""
    """What staff met at the door that bore on their safety (entry concerns, animals); empty when nothing."""
    summary: str
    """The concern (or the visit) in one or two sentences."""
    decisions: tuple[Decision, ...] = ()
    outcome: Outcome | None = None
    outcome_text: str
    alert_dsl: bool = False
    alert_emails: tuple[str, ...] = ()
    """Who CPOMS should alert (the school's DSLs for a concern); empty lets CPOMS's own rules decide."""
    description: str = Field(min_length=1, max_length=20000)
    """The record as the receiver's free text: :func:`render`, cut with a note saying so past 20,000 characters
    (:func:`fitted`). A person entering it by hand gets it whole (:mod:`hv_connector.outbox.entry`)."""


def record_id(visit_id: str, kind: ReportKind) -> str:
    """The reference a visit's record carries in CPOMS: one per visit, and one for its concern."""
    return f"{visit_id}/concern" if kind == "concern" else visit_id


def has_concern(visit: Visit) -> bool:
    """Whether a safeguarding concern arose on the visit (in its outcome or at a check-in)."""
    return bool((visit.outcome and visit.outcome.cp_concern) or any(c.concerns for c in visit.check_ins))


def build_reports(
    visit: Visit,
    kind: ReportKind,
    policies: Policies,
    *,
    revision: int = 1,
    decisions: Iterable[Decision] = (),
    dsl_emails: Iterable[str] = (),
) -> list[VisitReport]:
    """The visit's report of ``kind`` and, if a concern arose, the concern report (concern first).

    ``decisions`` are those on record for the visit (authorisation, extensions,
    acknowledged warnings, overrides, each with its reason); the authorisation
    is taken from the visit itself when they do not include it.

    ``kind="concern"`` says the caller already knows a concern arose: the
    visit still gets its routine record (``home-visit``, or ``cancelled`` when
    it did not go ahead) after the concern record.
    """
    if visit.id is None:
        raise ValueError("a report needs a stored visit (visit.id is None)")
    decided, emails = _decisions(visit, decisions), tuple(dsl_emails)
    concern = kind == "concern" or has_concern(visit)
    if kind == "concern":
        kind = "cancelled" if visit.outcome and visit.outcome.cancelled else "home-visit"
    reports = [_build(visit, kind, policies, revision, decided, emails)]
    if concern:
        reports.insert(0, _build(visit, "concern", policies, revision, decided, emails))
    return reports


def _build(
    visit: Visit,
    kind: ReportKind,
    policies: Policies,
    revision: int,
    decisions: tuple[Decision, ...],
    dsl_emails: tuple[str, ...],
) -> VisitReport:
    outcome = visit.outcome or VisitOutcome()
    concern = kind == "concern"
    follow_ups = [f for answer in policies.ask(visit.school, "follow_ups", visit=visit) or [] for f in answer or []]
    occurred = outcome.arrived_at or visit.planned_start
    if concern:
        occurred = _concern_raised_at(visit) or occurred
    fields = dict(
        record_id=record_id(visit.id or "", kind),
        revision=revision,
        kind=kind,
        school=visit.school,
        pupil_name=visit.pupil.name,
        upn=visit.pupil.upn,
        mis_id=visit.pupil.native_id,
        date_of_birth=visit.pupil.date_of_birth,
        categories=tuple(policies.ask(visit.school, "cpoms_categories", visit=visit, kind=kind) or ()),
        occurred_at=occurred,
        reason=_reason_text(visit, policies),
        visit_type=_visit_type(visit, policies),
        visitors=tuple(_staff(s) for s in visit.staff),
        reported_by=_staff(visit.staff[0]) if visit.staff else (_staff(visit.requested_by) if visit.requested_by else None),
        arrived_at=outcome.arrived_at,
        departed_at=outcome.departed_at,
        child_seen=outcome.child_seen,
        child_seen_alone=outcome.child_seen_alone,
        child_spoken_to=outcome.child_spoken_to,
        child_words=outcome.child_words,
        persons_present=tuple(Person(name=p.name, role=p.relationship) for p in outcome.persons_present),
        home_conditions=outcome.home_conditions,
        discussion=outcome.discussion,
        agreements=outcome.agreements,
        actions=tuple(Action(text=t) for t in outcome.action_points if t.strip())
        + tuple(_follow_up(f, occurred) for f in follow_ups),
        follow_up_on=_date(outcome.follow_up_on),
        concerns=_concern_text(visit),
        violence_or_abuse=_violence_text(outcome),
        safety=_safety_text(outcome),
        summary=_summary(visit, kind),
        decisions=decisions,
        outcome=None if outcome.cancelled or kind == "cancelled" else _outcome_code(outcome),
        outcome_text=_outcome_text(visit, kind),
        alert_dsl=concern,
        alert_emails=dsl_emails if concern else (),
        description="-",
    )
    return revise(VisitReport(**fields), revision)


def revise(report: VisitReport, revision: int) -> VisitReport:
    """The same report as a new revision (a corrected or retried record), its text re-rendered."""
    revised = report.model_copy(update={"revision": revision})
    return revised.model_copy(update={"description": fitted(render(revised))})


# --- the facts, from the visit -------------------------------------------------------------------


def _staff(member: StaffMember) -> Person:
    return Person(name=member.name, email=member.email, role=", ".join(member.roles))


def _reason_text(visit: Visit, policies: Policies) -> str:
    label = next((r.label for r in policies.reasons(visit.school) if r.code == visit.reason), visit.reason)
    return f"{label} — {visit.purpose}" if visit.purpose else (label or "not recorded")


def _visit_type(visit: Visit, policies: Policies) -> VisitType:
    if visit.emergency:
        return "emergency"
    tags = next((r.tags for r in policies.reasons(visit.school) if r.code == visit.reason), ())
    if "attendance" in tags:
        return "attendance"
    if visit.safeguarding or {"welfare", "safeguarding"} & set(tags):
        return "welfare_check"
    return "planned"


def _outcome_code(outcome: VisitOutcome) -> Outcome | None:
    if outcome.child_seen:
        return "child_seen_alone" if outcome.child_seen_alone else "child_seen"
    if outcome.child_seen is None:
        return None
    if outcome.persons_present or outcome.parents_present_on_arrival:
        return "refused_entry" if outcome.entered_home is False and outcome.parents_present_on_arrival else (
            "parent_seen_child_not_seen")
    return "no_answer"


def _concern_raised_at(visit: Visit) -> datetime | None:
    flagged = [c.at for c in visit.check_ins if c.concerns]
    return min(flagged) if flagged else None


def _concern_text(visit: Visit) -> str:
    parts = [visit.outcome.concerns.strip()] if visit.outcome and visit.outcome.concerns.strip() else []
    for check_in in visit.check_ins:
        if check_in.concerns:
            note = check_in.note.strip() or "no detail given"
            parts.append(f"Raised at the {humanize.time_of_day(check_in.at)} check-in: {note}")
    return "\n".join(parts)


def _violence_text(outcome: VisitOutcome) -> str:
    if not outcome.violence_or_abuse:
        return ""
    told = "reported to the line manager" if outcome.incident_reported_to_line_manager else (
        "NOT yet reported to the line manager")
    return f"Violence or abuse towards staff occurred on this visit; {told}."


_ENTRY_CONCERNS = {"under-influence": "an adult appeared to be under the influence",
                   "arranged-person-absent": "the person the visit was arranged with was not there",
                   "known-violent-person": "a person known to be violent was present"}


def _safety_text(outcome: VisitOutcome) -> str:
    said = [_ENTRY_CONCERNS.get(c, c) for c in outcome.entry_concerns]
    if outcome.entered_home is not None and said:
        said.append("staff went in" if outcome.entered_home else "staff did not go in")
    if outcome.dangerous_animals_present:
        said.append("dangerous animals present" + {True: ", secured", False: ", NOT secured", None: ""}[
            outcome.animals_secured])
    return "; ".join(said)


def _summary(visit: Visit, kind: ReportKind) -> str:
    pupil = visit.pupil.name
    if kind == "concern":
        first = _concern_text(visit).split("\n", 1)[0] or "a concern was flagged without detail"
        return f"Safeguarding concern about {pupil} raised on a home visit: {first}"
    outcome = visit.outcome
    if kind == "cancelled" or (outcome and outcome.cancelled):
        why = (outcome.cancellation_reason if outcome else "") or "no reason recorded"
        return f"Home visit to {pupil} did not go ahead: {why}"
    return f"Home visit to {pupil}: {_outcome_text(visit, kind)}"


def _outcome_text(visit: Visit, kind: ReportKind) -> str:
    outcome = visit.outcome or VisitOutcome()
    if kind == "cancelled" or outcome.cancelled:
        safety = " (for staff safety; the headteacher was told in writing)" if outcome.cancellation_sent_to_head else (
            " (for staff safety)" if outcome.cancelled_for_safety else "")
        return f"visit cancelled{safety}: {outcome.cancellation_reason or 'no reason recorded'}"
    seen = {True: "child seen", False: "child NOT seen", None: "whether the child was seen is not recorded"}
    text = seen[outcome.child_seen]
    if outcome.child_seen and outcome.child_seen_alone:
        text += " alone"
    if outcome.child_spoken_to:
        text += " and spoken to"
    if outcome.cp_concern:
        text += "; a child-protection concern was raised" + (
            " and discussed with the DSL" if outcome.cp_discussed_with_dsl else "")
    return text


def _decisions(visit: Visit, recorded: Iterable[Decision]) -> tuple[Decision, ...]:
    decided = list(recorded)
    if visit.authorised_by is not None and not any(d.what == AUTHORISED for d in decided):
        decided.insert(0, Decision(what=AUTHORISED, by=visit.authorised_by.name, at=visit.authorised_at))
    outcome = visit.outcome
    if outcome and outcome.cancelled:
        decided.append(Decision(what="Visit cancelled", reason=outcome.cancellation_reason or "no reason recorded"))
    return tuple(decided)


def _follow_up(follow_up: FollowUp, occurred: datetime) -> Action:
    due = local(occurred).date() + timedelta(days=follow_up.due_days) if follow_up.due_days is not None else None
    return Action(text=follow_up.text, who=follow_up.who, due_on=due)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- the plain-text block --------------------------------------------------------------------------

NOT_RECORDED = "not recorded"
"""What the report says where staff recorded nothing: CPOMS readers must see the gap, not a dash."""


def yes_no(value: bool | None) -> str:
    """Yes, no, or :data:`NOT_RECORDED`: the record's answer to a question staff may have left blank."""
    return humanize.yes_no(value, missing=NOT_RECORDED)


def people_named(people: Iterable[Person]) -> str:
    """Each person as "name (role)", in the order given; "none recorded" for nobody."""
    return "; ".join(f"{p.name} ({p.role})" if p.role else p.name for p in people) or "none recorded"


class Identified(Protocol):
    """A pupil as a record names them: a :class:`VisitReport`, or an outbox row read without its payload."""

    @property
    def pupil_name(self) -> str: ...

    @property
    def upn(self) -> str | None: ...

    @property
    def mis_id(self) -> str | None: ...

    @property
    def date_of_birth(self) -> date | None: ...


def pupil_identified(pupil: Identified) -> str:
    """The pupil's name with what a person matches them by in CPOMS: "name (UPN …, MIS id …, born …)"."""
    born = humanize.day(pupil.date_of_birth) if pupil.date_of_birth else None
    ids = ", ".join(f"{k} {v}" for k, v in (("UPN", pupil.upn), ("MIS id", pupil.mis_id), ("born", born)) if v)
    return pupil.pupil_name + (f" ({ids})" if ids else "")


def render(report: VisitReport) -> str:
    """The whole record as a fixed plain-text block (London times), for CPOMS's free-text description."""
    title = "SAFEGUARDING CONCERN raised on a home visit" if report.kind == "concern" else "Home visit record"
    lines = [
        f"{title} — {pupil_identified(report)}",
        f"When: {humanize.moment(report.occurred_at, missing=NOT_RECORDED)} (UK time)",
        f"Summary: {report.summary}",
        f"Reason for the visit: {report.reason}",
        f"Who went: {people_named(report.visitors)}",
        f"Arrived: {humanize.moment(report.arrived_at, missing=NOT_RECORDED)}; "
        f"left: {humanize.moment(report.departed_at, missing=NOT_RECORDED)}",
        f"Child seen: {yes_no(report.child_seen)}; seen alone: {yes_no(report.child_seen_alone)}; "
        f"spoken to: {yes_no(report.child_spoken_to)}",
    ]
    if report.child_words.strip():
        lines.append(f"The child's own words: \"{report.child_words.strip()}\"")
    lines.append(f"Persons present: {people_named(report.persons_present)}")
    for label, text in (("Home conditions", report.home_conditions), ("Discussed", report.discussion)):
        if text.strip():
            lines.append(f"{label}: {text.strip()}")
    if report.agreements:
        lines.append("Agreed:")
        lines.extend(f"  - {a}" for a in report.agreements)
    lines.append(f"Concerns: {report.concerns or 'none raised'}")
    if report.safety:
        lines.append(f"Safety at the door: {report.safety}")
    if report.violence_or_abuse:
        lines.append(f"Incident: {report.violence_or_abuse}")
    lines.append("Decisions:" if report.decisions else "Decisions: none recorded")
    for d in report.decisions:
        who = f" by {d.by}" if d.by else ""
        when = f" on {humanize.moment(d.at)}" if d.at else ""
        why = f" — reason: {d.reason}" if d.reason else ""
        lines.append(f"  - {d.what}{who}{when}{why}")
    lines.append("Action:" if report.actions else "Action: none recorded")
    for a in report.actions:
        extra = ", ".join(x for x in (", ".join(a.who), f"by {humanize.day(a.due_on)}" if a.due_on else "") if x)
        lines.append(f"  - {a.text}" + (f" ({extra})" if extra else ""))
    if report.follow_up_on:
        lines.append(f"Follow-up on: {humanize.day(report.follow_up_on)}")
    lines.append(f"Outcome: {report.outcome_text}")
    lines.append(f"Recorded by hv-connector from visit {report.record_id.split('/')[0]}, revision {report.revision}.")
    return "\n".join(lines)


DESCRIPTION_LIMIT = 20000
"""The most text a CPOMS incident's description takes (the proposed contract's limit)."""


def fitted(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """``text`` as a receiver that takes at most ``limit`` characters gets it: whole, or cut with a line saying so."""
    if len(text) <= limit:
        return text
    note = (f"\n[CUT: this record is {len(text):,} characters, over the {limit:,} this system takes. The whole record "
            "is in hv-connector: `hvc outbox show ID` prints it.]")
    return text[:limit - len(note)] + note
