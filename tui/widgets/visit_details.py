"""The request form's further details, in collapsible sections so the form fits 80×24: who the visit was
planned and discussed with, parents and alternatives, out of hours and lone working, travel and the car,
what is known about the family, an external referral, and the risk assessment's sign-off and contact plan.

Every field here is one the schools' rules read. A section's fields are built the first time it is opened
(the form opens fast); a section never opened gives the model's defaults, as an empty one does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, get_args

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Collapsible, Input, Label, Select

from hv_connector.errors import InputError
from hv_connector.models import StaffMember
from hv_connector.models.visit import Alternative, FamilyKnowledge, Vehicle, Visit

PEOPLE = (("planned_with", "Planned with (line manager, PFLO …)"),
          ("safeguarding_discussed_with", "Safeguarding discussed with"))
OUT_OF_HOURS_PEOPLE = (("out_of_hours_arranged_by", "Out of hours: arranged by"),
                       ("welfare_contact", "Welfare contact during the visit"),
                       ("nearby_staff", "Second member of staff nearby"),
                       ("lone_visit_agreed_by", "Lone visit agreed by"))
RISK_PEOPLE = (("completed_by", "Completed by"), ("completed_with", "Completed with"),
               ("signed_off_by", "Signed off by"))
FLAGS = (("parents_not_responding", "Parents not responding", False),
         ("statutory_cp", "Part of a statutory child-protection process", False),
         ("hygiene_checklist_done", "Hygiene checklist done", False),
         ("returning_to_school", "Returning to school after the visit", True),
         ("record_of_past_visit", "Record of a visit already made", False))
FAMILY_FLAGS = (("concerns", "Concerns about the family"), ("known_violent_person", "A known violent person"),
                ("dangerous_animals", "Dangerous animals"))
ALTERNATIVES: tuple[str, ...] = get_args(Alternative.model_fields["method"].annotation)
"""Alternatives to a home visit, as the model knows them (each with why it does not serve)."""


def _choice(model: type[Any], field: str, id: str) -> Select[str]:
    """The model's choices for ``field`` (a Literal), its default chosen."""
    info = model.model_fields[field]
    return Select([(code.replace("-", " ").capitalize(), code) for code in get_args(info.annotation)],
                  allow_blank=False, value=info.default, id=id, compact=True)


def _labelled(label: str, widget: Any) -> Horizontal:
    return Horizontal(Label(label, classes="field"), widget, classes="detail-row")


def _person(field: str) -> Select[str]:
    return Select([], id=field, prompt="—", compact=True, classes="person")


def _planning() -> Iterator[Widget]:
    for field, label in PEOPLE:
        yield _labelled(label, _person(field))
    for field, label, default in FLAGS:
        yield Checkbox(label, default, id=field, compact=True)
    yield Label("Alternatives considered: why each does not serve (leave blank if not considered)")
    for method in ALTERNATIVES:
        yield _labelled(method.replace("-", " ").capitalize(),
                        Input(id=f"alt-{method}", placeholder="Why not", compact=True))


def _hours() -> Iterator[Widget]:
    yield _labelled("Out-of-hours reason", Input(id="out_of_hours_reason", compact=True,
                                                 placeholder="Why it cannot be in school hours"))
    for field, label in OUT_OF_HOURS_PEOPLE:
        yield _labelled(label, _person(field))


def _travel() -> Iterator[Widget]:
    yield _labelled("Travel", _choice(Visit, "travel", "travel"))
    for part in Vehicle.model_fields:
        yield _labelled(f"Car {part}", Input(id=f"vehicle-{part}", compact=True))


def _family() -> Iterator[Widget]:
    yield _labelled("Known about the home", _choice(FamilyKnowledge, "information", "information"))
    for field, label in FAMILY_FLAGS:
        yield Checkbox(label, id=f"family-{field}", compact=True)
    yield _labelled("Family notes", Input(id="family-notes", compact=True))
    yield _labelled("Referred by (service)", Input(id="referral-service", compact=True,
                                                   placeholder="e.g. Early Help; blank if none"))
    yield Checkbox("Coordinated with that service", id="referral-coordinated", compact=True)
    yield Checkbox("A plan to ascertain the risks is in place", id="referral-risk_plan", compact=True)


def _risk() -> Iterator[Widget]:
    for field, label in RISK_PEOPLE:
        yield _labelled(label, _person(f"risk-{field}"))
    yield Checkbox("Concerns can be mitigated", True, id="concerns_mitigated", compact=True)
    yield _labelled("Contact every (minutes)", Input(id="contact_interval_minutes", type="integer", compact=True))
    yield _labelled("If a contact is missed", Input(id="missed_contact_procedure", compact=True,
                                                    placeholder="What the office does"))


SECTIONS: dict[str, tuple[str, Callable[[], Iterator[Widget]]]] = {
    "more-planning": ("Planning, parents and alternatives", _planning),
    "more-hours": ("Out of hours and lone working", _hours),
    "more-travel": ("Travel and the car", _travel),
    "more-family": ("The family and any referral", _family),
    "more-risk": ("Risk sign-off and contact plan", _risk),
}
"""Section id → (title, its fields)."""


class VisitDetails(Vertical):
    """The further details of a request; :meth:`document` gives them as the request document's fields."""

    DEFAULT_CSS = """
    VisitDetails { height: auto; }
    VisitDetails Collapsible { padding: 0; border-top: none; }
    VisitDetails .detail-row { height: auto; }
    VisitDetails .field { width: 20; padding-right: 1; }
    VisitDetails .detail-row Input, VisitDetails .detail-row Select { width: 1fr; }
    VisitDetails .person { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.staff_options: list[tuple[Text, str]] = []
        self.me: str | None = None
        self.built: set[str] = set()

    def compose(self) -> ComposeResult:
        for section_id, (title, _) in SECTIONS.items():
            yield Collapsible(title=title, id=section_id)

    @on(Collapsible.Expanded)
    async def _build(self, event: Collapsible.Expanded) -> None:
        section = event.collapsible
        if section.id in self.built:
            return
        self.built.add(section.id)
        await section.query_one(Collapsible.Contents).mount_all(SECTIONS[section.id][1]())
        self._offer_staff(section)

    def set_staff(self, staff: list[StaffMember], me: str) -> None:
        """Offer the school's directory in every person field; the risk assessment is completed by ``me``."""
        self.staff_options = [(Text(f"{m.name} ({', '.join(m.roles)})"), m.id) for m in staff]
        self.me = me if any(m.id == me for m in staff) else None
        self._offer_staff(self)

    def _offer_staff(self, within: Widget) -> None:
        for select in within.query(".person").results(Select):
            select.set_options(self.staff_options)
        if self.me is not None:
            for select in within.query("#risk-completed_by").results(Select):
                select.value = self.me

    def _values(self) -> dict[str, Any]:
        """Each field's value by its id, read in one walk of the sections (the form is read at every change):
        ``None`` where nothing is chosen, text stripped. A section never opened has no fields here."""
        values: dict[str, Any] = {}
        for field in self.query("Input, Select, Checkbox").results((Input, Select, Checkbox)):
            value = field.value
            if field.id is not None:
                values[field.id] = None if value is Select.NULL else value.strip() if isinstance(value, str) else value
        return values

    def document(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the visit's fields, the risk assessment's fields) as typed; :class:`InputError` names a bad one."""
        typed = self._values()  # a field missing (its section never opened) takes the default given here
        visit: dict[str, Any] = {field: typed.get(field) for field, _ in (*PEOPLE, *OUT_OF_HOURS_PEOPLE)}
        visit.update({field: typed.get(field, default) for field, _, default in FLAGS})
        visit["out_of_hours_reason"] = typed.get("out_of_hours_reason", "")
        visit["travel"] = typed.get("travel", Visit.model_fields["travel"].default)
        visit["alternatives_considered"] = [{"method": method, "why_not": why} for method in ALTERNATIVES
                                            if (why := typed.get(f"alt-{method}"))]
        vehicle = {part: typed.get(f"vehicle-{part}", "") for part in Vehicle.model_fields}
        visit["vehicle"] = vehicle if any(vehicle.values()) else None
        visit["family"] = {"information": typed.get("information", FamilyKnowledge().information),
                           "notes": typed.get("family-notes", ""),
                           **{field: typed.get(f"family-{field}", False) for field, _ in FAMILY_FLAGS}}
        service = typed.get("referral-service")
        visit["external_referral"] = {"service": service, "coordinated": typed.get("referral-coordinated"),
                                      "risk_plan": typed.get("referral-risk_plan")} if service else None
        risk = {field: typed.get(f"risk-{field}") for field, _ in RISK_PEOPLE}
        if "more-risk" not in self.built:
            risk["completed_by"] = self.me
        risk["concerns_mitigated"] = typed.get("concerns_mitigated", True)
        risk["missed_contact_procedure"] = typed.get("missed_contact_procedure") or None
        interval = typed.get("contact_interval_minutes")
        try:
            risk["contact_interval_minutes"] = int(interval) if interval else None
        except ValueError:
            raise InputError(f"risk_assessment.contact_interval_minutes: {interval!r} is not a whole number of "
                             "minutes") from None
        return visit, risk
