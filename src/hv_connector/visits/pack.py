"""The briefing pack: what the visiting staff carry on a home visit, as a printable document.

Built from what the dashboard and ``hvc pupil show`` already read — the pupil briefing
(:mod:`hv_connector.read.briefing`), the visit, and the check-in plan and escalation chain the
school's policy gives it — laid out for ``briefing.typ``. The code word is never read here: it
is agreed in person, and the pack says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from hv_connector import humanize
from hv_connector.models import CheckInPlan, EscalationStep, StaffMember, Visit
from hv_connector.printing import Document, Items, Paragraph, Rows, Section, Table
from hv_connector.read.attendance import figure_lines
from hv_connector.read.briefing import PupilBriefing, flag, not_from_mis
from hv_connector.visits.directory import OFFICE_ROLES
from hv_connector.visits.records import VisitRecord

NOTICE = ("PERSONAL DATA about a child and family. For the staff on this visit only: keep it with you, "
          "never leave it in the car, and destroy it (shred) after the visit.")
CODE_WORD = "The code word is not printed: it is agreed in person with the office before you leave."
ANCHORS = {"sign-out": "after signing out", "planned-start": "after the planned start",
           "expected-return": "after the expected return", "interval": "", "returned": "after returning"}
"""How each check-in step's anchor reads after its minutes."""


def pack_document(record: VisitRecord, briefing: PupilBriefing | None, plan: CheckInPlan,
                  chain: Iterable[EscalationStep], staff: Mapping[str, StaffMember], *,
                  printed_at: datetime, printed_by: str) -> Document:
    """The briefing pack of ``record``'s visit.

    :param briefing: the pupil's briefing from the store (``None``: not in the synced MIS data).
    :param plan: the check-in plan the school's policy gives the visit.
    :param chain: the escalation chain the school's policy gives the visit.
    :param staff: the school's directory (staff id → member), for the numbers to call.
    :param printed_at: when it is printed (said on the pack, so an old copy shows its age).
    :param printed_by: the name of who printed it.
    """
    visit = record.visit
    return Document(
        title=f"Briefing pack: visit {record.id}",
        subtitle=(f"{visit.pupil.name} — {humanize.moment(visit.planned_start)}. Printed "
                  f"{humanize.moment(printed_at)} by {printed_by}; the visit was {record.state.value}."),
        notice=NOTICE,
        sections=[_plan(visit), *_briefing(briefing, record.id), _risk(visit), _check_ins(plan),
                  _chain(list(chain), staff)],
    )


def _who(member: StaffMember | None) -> str:
    if member is None:
        return "not named"
    return f"{member.name} ({member.mobile})" if member.mobile else f"{member.name} (no mobile on record)"


def _plan(visit: Visit) -> Section:
    vehicle = visit.vehicle
    car = " ".join(x for x in (vehicle.colour, vehicle.make, vehicle.model) if x) if vehicle else ""
    rows = [
        ("Pupil", f"{visit.pupil.name} (UPN {visit.pupil.upn or 'not known'})"),
        ("Address", visit.address or "not recorded"),
        ("Why", f"{visit.reason}{' — ' + visit.purpose if visit.purpose else ''}" or "not recorded"),
        ("Who goes", "; ".join(_who(m) for m in visit.staff) or "no staff named"),
        ("Leaves", humanize.moment(visit.planned_start)),
        ("Back by", humanize.moment(visit.expected_return, missing="not set: agree it with the office")),
        ("Travel", visit.travel),
        ("Vehicle", f"{car} {vehicle.registration}".strip() if vehicle else "none recorded"),
        ("Authorised by", visit.authorised_by.name if visit.authorised_by else "NOT YET AUTHORISED"),
        ("Welfare contact", _who(visit.welfare_contact)),
    ]
    if visit.nearby_staff:
        rows.append(("Staff nearby", _who(visit.nearby_staff)))
    return Section(heading="The plan", blocks=[Rows(rows=rows)])


def _briefing(b: PupilBriefing | None, visit_id: str) -> list[Section]:
    if b is None:
        return [Section(heading="The pupil", blocks=[Paragraph(
            text="No MIS briefing: the pupil is not in the synced data (a new family, or left). Ask the DSL.",
            strong=True)])]
    born = humanize.day(b.date_of_birth, missing="not in the MIS")
    pupil = Section(heading="The pupil", blocks=[Rows(rows=[
        ("Name", b.display_name), ("Born", born), ("Year", b.year_group or "not in the MIS"),
        ("Address", b.address_text or b.missing("address", "not in the MIS")),
        ("MIS data as of", humanize.moment(b.synced_at, missing="never synced")),
    ])])
    contacts = [Table(columns=["Contact", "Relationship", "Responsibility", "Lives with pupil", "Phone"], rows=[
        [("NO CONTACT: " if c.no_contact else "") + c.name + (" (court order)" if c.court_order else ""),
         c.relationship or "not recorded", flag(c.parental_responsibility, "yes", "no"),
         flag(c.lives_with_pupil, "yes", "no"), ", ".join(c.phones) or "no phone number"]
        for c in b.contacts])] if b.contacts else [Paragraph(text=b.missing("contacts", "None in the MIS."))]
    restrictions = [f"{r.kind}{' — ' + r.person if r.person else ''}: {r.text}" for r in b.restrictions]
    alerts = [f"{a.kind}: {a.text}" for a in b.alerts]
    warnings = Section(heading="Restrictions, orders and alerts", blocks=[
        Items(items=restrictions) if restrictions else Paragraph(text="The school has entered no restrictions."),
        Items(items=alerts) if alerts else Paragraph(text=f"Alerts from the MIS: {b.missing('alerts', 'none')}."),
        Paragraph(text=not_from_mis()),
    ])
    needs = Section(heading="Medical and SEN", blocks=[
        Items(items=[f"Medical — {m.kind}: {m.description}" for m in b.medical]
              + [f"SEN — {s.need}{' — ' + s.provision if s.provision else ''}" for s in b.sen]
              or [f"Medical: {b.missing('medical', 'nothing recorded')}", f"SEN: {b.missing('sen', 'none recorded')}"]),
    ])
    attendance = Section(heading="Attendance", blocks=[Items(items=[line for line, _ in figure_lines(b.attendance)])])
    earlier = [v for v in b.earlier_visits if v.visit_id != visit_id]
    history = Section(heading="Earlier visits at this address", blocks=[
        Table(columns=["When", "State", "Pupil", "How it went"], rows=[
            [humanize.day(v.planned_start), v.state, "this pupil" if v.same_pupil else "another pupil", v.outcome]
            for v in earlier]) if earlier else Paragraph(text="None."),
    ])
    return [pupil, Section(heading="Contacts (parental responsibility first)", blocks=contacts), warnings, needs,
            attendance, history]


def _risk(visit: Visit) -> Section:
    risk = visit.risk_assessment
    if risk is None:
        return Section(heading="Risk assessment", blocks=[
            Paragraph(text="No risk assessment recorded: do not go until one is done.", strong=True),
            Paragraph(text=CODE_WORD)])
    hazards = Table(columns=["Hazard", "Rating", "Controls"], rows=[
        [h.hazard, h.rating or "not rated", "; ".join(h.controls) or "none recorded"] for h in risk.hazards],
    ) if risk.hazards else Paragraph(text="No hazards recorded.")
    rows = [("Covers", ", ".join(risk.covers) or "not recorded"),
            ("Completed by", risk.completed_by.name if risk.completed_by else "not recorded"),
            ("Lone working assessed", "yes" if risk.lone_working else "no")]
    if risk.contact_interval_minutes:
        rows.append(("Contact every", f"{risk.contact_interval_minutes} minutes"))
    if risk.missed_contact_procedure:
        rows.append(("If a contact is missed", risk.missed_contact_procedure))
    return Section(heading="Risk assessment", blocks=[hazards, Rows(rows=rows), Paragraph(text=CODE_WORD, strong=True)])


def _check_ins(plan: CheckInPlan) -> Section:
    rows = [[s.description, ", ".join(s.who),
             f"every {s.offset_minutes} min" if s.anchor == "interval" else
             f"{s.offset_minutes} min {ANCHORS[s.anchor]}" if s.offset_minutes else ANCHORS[s.anchor].replace("after ", "on ")]
            for s in plan.steps]
    return Section(heading="Check-in plan", blocks=[
        Table(columns=["Contact", "Who", "When"], rows=rows) if rows else Paragraph(text="No check-ins planned."),
        Paragraph(text=f"The visit counts as overdue {plan.grace_minutes} minutes after the expected return."),
    ])


def _chain(chain: list[EscalationStep], staff: Mapping[str, StaffMember]) -> Section:
    def people(roles: Iterable[str]) -> str:
        found = [_who(m) for m in staff.values() if m.has_any(roles)]
        return "; ".join(found) or "nobody in the directory holds this role"

    office = [m for m in staff.values() if m.has_any(OFFICE_ROLES)]
    return Section(heading="If something goes wrong: the escalation chain", blocks=[
        Table(columns=["Step", "Who", "What they do", "Then after"], rows=[
            [str(n), f"{', '.join(s.who)}: {people(s.who)}", s.action + (" (the code word goes straight here)"
                                                                         if s.emergency else ""),
             f"{s.wait_minutes} min"] for n, s in enumerate(chain, start=1)]) if chain
        else Paragraph(text="The school's policy gives no escalation chain: ask the office.", strong=True),
        Rows(rows=[("The office", "; ".join(_who(m) for m in office) or "no office staff in the directory")]),
    ])
