"""The request form's further details, in collapsible sections so the form fits 80×24: who the visit was
planned and discussed with, parents and alternatives, out of hours and lone working, travel and the car,
what is known about the family, an external referral, and the risk assessment's sign-off and contact plan.

Every field here is one the schools' rules read; a section left closed and empty adds nothing to the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
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

    def compose(self) -> ComposeResult:
        with Collapsible(title="Planning, parents and alternatives", id="more-planning"):
            for field, label in PEOPLE:
                yield _labelled(label, self._person(field))
            for field, label, default in FLAGS:
                yield Checkbox(label, default, id=field, compact=True)
            yield Label("Alternatives considered: why each does not serve (leave blank if not considered)")
            for method in ALTERNATIVES:
                yield _labelled(method.replace("-", " ").capitalize(), Input(id=f"alt-{method}", placeholder="Why not", compact=True))
        with Collapsible(title="Out of hours and lone working", id="more-hours"):
            yield _labelled("Out-of-hours reason", Input(id="out_of_hours_reason", compact=True,
                                                         placeholder="Why it cannot be in school hours"))
            for field, label in OUT_OF_HOURS_PEOPLE:
                yield _labelled(label, self._person(field))
        with Collapsible(title="Travel and the car", id="more-travel"):
            yield _labelled("Travel", _choice(Visit, "travel", "travel"))
            for part in Vehicle.model_fields:
                yield _labelled(f"Car {part}", Input(id=f"vehicle-{part}", compact=True))
        with Collapsible(title="The family and any referral", id="more-family"):
            yield _labelled("Known about the home", _choice(FamilyKnowledge, "information", "information"))
            for field, label in FAMILY_FLAGS:
                yield Checkbox(label, id=f"family-{field}", compact=True)
            yield _labelled("Family notes", Input(id="family-notes", compact=True))
            yield _labelled("Referred by (service)", Input(id="referral-service", compact=True,
                                                           placeholder="e.g. Early Help; blank if none"))
            yield Checkbox("Coordinated with that service", id="referral-coordinated", compact=True)
            yield Checkbox("A plan to ascertain the risks is in place", id="referral-risk_plan", compact=True)
        with Collapsible(title="Risk sign-off and contact plan", id="more-risk"):
            for field, label in RISK_PEOPLE:
                yield _labelled(label, self._person(f"risk-{field}"))
            yield Checkbox("Concerns can be mitigated", True, id="concerns_mitigated", compact=True)
            yield _labelled("Contact every (minutes)", Input(id="contact_interval_minutes", type="integer",
                                                             compact=True))
            yield _labelled("If a contact is missed", Input(id="missed_contact_procedure", compact=True,
                                                            placeholder="What the office does"))

    @staticmethod
    def _person(field: str) -> Select[str]:
        return Select([], id=field, prompt="—", compact=True, classes="person")

    def _people_fields(self) -> Iterable[str]:
        yield from (field for field, _ in (*PEOPLE, *OUT_OF_HOURS_PEOPLE))
        yield from (f"risk-{field}" for field, _ in RISK_PEOPLE)

    def set_staff(self, staff: list[StaffMember], me: str) -> None:
        """Offer the school's directory in every person field; the risk assessment is completed by ``me``."""
        options = [(Text(f"{m.name} ({', '.join(m.roles)})"), m.id) for m in staff]
        for field in self._people_fields():
            self.query_one(f"#{field}", Select).set_options(options)
        if any(m.id == me for m in staff):
            self.query_one("#risk-completed_by", Select).value = me

    def _value(self, field: str) -> Any:
        value = self.query_one(f"#{field}").value
        if value is Select.NULL:
            return None
        return value.strip() if isinstance(value, str) else value

    def document(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the visit's fields, the risk assessment's fields) as typed; :class:`InputError` names a bad one."""
        visit: dict[str, Any] = {field: self._value(field) for field, _ in (*PEOPLE, *OUT_OF_HOURS_PEOPLE)}
        visit.update({field: self._value(field) for field, _, _ in FLAGS})
        visit["out_of_hours_reason"] = self._value("out_of_hours_reason")
        visit["travel"] = self._value("travel")
        visit["alternatives_considered"] = [{"method": method, "why_not": why} for method in ALTERNATIVES
                                            if (why := self._value(f"alt-{method}"))]
        vehicle = {part: self._value(f"vehicle-{part}") for part in Vehicle.model_fields}
        visit["vehicle"] = vehicle if any(vehicle.values()) else None
        visit["family"] = {"information": self._value("information"), "notes": self._value("family-notes"),
                           **{field: self._value(f"family-{field}") for field, _ in FAMILY_FLAGS}}
        service = self._value("referral-service")
        visit["external_referral"] = {"service": service, "coordinated": self._value("referral-coordinated"),
                                      "risk_plan": self._value("referral-risk_plan")} if service else None
        risk = {field: self._value(f"risk-{field}") for field, _ in RISK_PEOPLE}
        risk["concerns_mitigated"] = self._value("concerns_mitigated")
        risk["missed_contact_procedure"] = self._value("missed_contact_procedure") or None
        interval = self._value("contact_interval_minutes")
        try:
            risk["contact_interval_minutes"] = int(interval) if interval else None
        except ValueError:
            raise InputError(f"risk_assessment.contact_interval_minutes: {interval!r} is not a whole number of "
                             "minutes") from None
        return visit, risk

