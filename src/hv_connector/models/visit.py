"""A home visit: everything the policies ask about, from request to report.

The same model serves a visit file (``hvc policy check``), the store, the
dashboard's forms and the CPOMS report. Times are timezone-aware; naive times
are refused so a visit can never be an hour out across a clock change.

The safe/code word is recorded (the policies require it) as a secret: it
serialises as ``**********`` unless the caller passes
``context={"reveal_secrets": True}``, which only the store and the screen that
shows it on request to the office or the authoriser do.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, SecretStr, SerializationInfo, field_serializer, model_validator

from hv_connector.models.common import Frozen, Moment, Stage
from hv_connector.models.staff import StaffMember

Rating = Literal["L", "M", "H"]
CheckInKind = Literal["office-call", "staff-call", "arrived", "left-home", "home-safe", "interruption"]


class PupilRef(Frozen):
    """The pupil the visit is about, as known from the MIS."""

    name: str = Field(min_length=1)
    mis_id: str | None = None
    """Our key for the pupil in the store (the MIS feed's record id when first synced)."""
    native_id: str | None = None
    """The MIS's own id for the pupil (Wonde's ``mis_id``): what CPOMS-style systems match on, with the UPN."""
    upn: str | None = None
    date_of_birth: date | None = None
    known_in_mis: bool = True
    """False when the pupil is not (yet) in the synced MIS data."""
    attendance_3m: float | None = Field(default=None, ge=0, le=100)
    """Attendance over the last three months, as a percentage."""


class FamilyKnowledge(Frozen):
    """What the school knows about the household before the visit."""

    concerns: bool = False
    """Any concern about the family (behaviour, hostility, history)."""
    notes: str = ""
    information: Literal["full", "some", "little-or-none"] = "some"
    """How much is known about the household."""
    known_violent_person: bool = False
    dangerous_animals: bool = False


class Alternative(Frozen):
    """An alternative to a home visit that was considered, and why it does not serve."""

    method: Literal["video-call", "meeting-elsewhere", "public-premises", "private-premises"]
    why_not: str = Field(min_length=1)


class Hazard(Frozen):
    """One row of a risk assessment."""

    hazard: str = Field(min_length=1)
    controls: tuple[str, ...] = ()
    rating: Rating | None = None


class RiskAssessment(Frozen):
    """The visit's risk assessment, as the school's template asks for it."""

    hazards: tuple[Hazard, ...] = ()
    covers: tuple[str, ...] = ()
    """Topics the assessment covers (e.g. ``behaviour``, ``travel``, ``mobile-coverage``)."""
    completed_by: StaffMember | None = None
    completed_with: StaffMember | None = None
    """Who helped complete it (Birchwood: the line manager)."""
    signed_off_by: StaffMember | None = None
    lone_working: bool = False
    """A lone-working assessment was made for a single-staff visit."""
    concerns_mitigated: bool = True
    """False when the assessor judges that concerns cannot be mitigated."""
    code_word: SecretStr | None = None
    """The agreed safe/code word or password. Never shown on a list, log or report."""
    contact_interval_minutes: int | None = Field(default=None, gt=0)
    missed_contact_procedure: str | None = None

    @field_serializer("code_word", when_used="always")
    def _hide_code_word(self, word: SecretStr | None, info: SerializationInfo) -> Any:
        if word is None:
            return None
        context = info.context or {}
        if context.get("reveal_secrets"):
            return word.get_secret_value()
        return str(word) if info.mode == "json" else word

    @property
    def code_word_agreed(self) -> bool:
        return self.code_word is not None and bool(self.code_word.get_secret_value().strip())


class Vehicle(Frozen):
    """The car used for the visit."""

    make: str = ""
    model: str = ""
    registration: str = ""
    colour: str = ""

    @property
    def complete(self) -> bool:
        return all((self.make, self.model, self.registration, self.colour))


class ExternalReferral(Frozen):
    """A family referred by another service (social care, early help, police …)."""

    service: str = Field(min_length=1)
    coordinated: bool = False
    """The visit is coordinated with that service."""
    risk_plan: bool = False
    """A plan to ascertain the risks before the visit is in place."""


class CheckIn(Frozen):
    """A contact between the visiting staff and school while they are out."""

    at: Moment
    kind: CheckInKind
    by: str = ""
    """Who made or took the call (directory id or name)."""
    code_word_used: bool = False
    """The staff used the code word: they need help now."""
    concerns: bool = False
    emergency: bool = False
    """An emergency showed itself at the home (e.g. a child found alone and at risk), reported as it happened."""
    parents_present: bool | None = None
    """Whether a parent or carer is there with the staff (``False``: nobody answered, or they went in alone)."""
    waited_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    """How long the staff have waited at the door so far."""
    animals_secured: bool | None = None
    """A potentially dangerous animal is at the home: ``False`` while it is loose, ``True`` once shut away."""
    entered_home: bool | None = None
    """The staff have gone into the home."""
    note: str = ""


class PersonPresent(Frozen):
    name: str
    relationship: str = ""


class VisitOutcome(Frozen):
    """What happened, as recorded in the report after the visit."""

    arrived_at: Moment | None = None
    departed_at: Moment | None = None
    parents_present_on_arrival: bool | None = None
    waited_minutes: int | None = Field(default=None, ge=0)
    cancelled: bool = False
    cancelled_for_safety: bool = False
    cancellation_reason: str = ""
    cancellation_sent_to_head: bool = False
    """The safety reason for cancelling went to the headteacher in writing."""
    dangerous_animals_present: bool = False
    animals_secured: bool | None = None
    entered_home: bool | None = None
    parent_present_inside: bool | None = None
    emergency: bool = False
    """An emergency showed itself at the home (e.g. a child found alone and at risk), recorded in the report."""
    entry_concerns: tuple[Literal["under-influence", "arranged-person-absent", "known-violent-person"], ...] = ()
    child_seen: bool | None = None
    child_spoken_to: bool | None = None
    child_seen_alone: bool | None = None
    child_words: str = ""
    persons_present: tuple[PersonPresent, ...] = ()
    home_conditions: str = ""
    discussion: str = ""
    agreements: tuple[str, ...] = ()
    action_points: tuple[str, ...] = ()
    concerns: str = ""
    cp_concern: bool = False
    """A child-protection concern arose."""
    cp_discussed_with_dsl: bool = False
    violence_or_abuse: bool = False
    """Any violence or abuse towards staff, verbal included."""
    incident_reported_to_line_manager: bool = False
    reported_to_head: bool = False
    """The visit was reported to the headteacher or the designated person."""
    tutoring_room: str = ""
    home_safe_confirmed: bool = False
    """After an out-of-hours visit, staff confirmed they are home safe."""
    follow_up_on: str | None = None


class Visit(Frozen):
    """A home visit, from request to report."""

    id: str | None = None
    school: str = Field(min_length=1)
    """The school id, e.g. ``"potton"``."""
    pupil: PupilRef
    new_family: bool = False
    """A visit to a family not yet in the MIS (e.g. a new starter)."""
    reason: str = ""
    """A reason code from the school's list (``hvc policy show SCHOOL``)."""
    purpose: str = ""
    address: str | None = None
    planned_start: Moment
    expected_return: Moment | None = None
    record_of_past_visit: bool = False
    """The visit already happened and is being recorded after the fact."""
    travel: Literal["car", "foot", "public-transport", "other"] = "car"
    staff: tuple[StaffMember, ...] = ()
    """The staff who go on the visit."""
    requested_by: StaffMember | None = None
    planned_with: StaffMember | None = None
    """Who the visit was planned with or its purpose agreed with (manager, PFLO, line manager)."""
    line_manager_informed: bool = False
    logged_with_office: bool = False
    """The office holds the visit log: destination, expected return, who is going."""
    phones_given_to_office: bool = False
    hygiene_checklist_done: bool = False
    safeguarding: bool = False
    """The visit is about a safeguarding concern."""
    statutory_cp: bool = False
    """The visit is part of a statutory child-protection process."""
    emergency: bool = False
    """An emergency or immediate concern (e.g. no contact and a welfare worry)."""
    family: FamilyKnowledge = Field(default_factory=FamilyKnowledge)
    # A factory, not an instance: making one at import would build the model's validator on every start.
    parents_informed: bool = False
    parent_agreement: bool = False
    parents_not_responding: bool = False
    """Parents/carers are not answering calls or messages."""
    alternatives_considered: tuple[Alternative, ...] = ()
    safeguarding_discussed_with: StaffMember | None = None
    out_of_hours_reason: str = ""
    out_of_hours_arranged_by: StaffMember | None = None
    welfare_contact: StaffMember | None = None
    """A named person who checks on staff welfare during the visit."""
    nearby_staff: StaffMember | None = None
    """A second member of staff nearby, not in the meeting."""
    lone_visit_agreed_by: StaffMember | None = None
    risk_assessment: RiskAssessment | None = None
    vehicle: Vehicle | None = None
    external_referral: ExternalReferral | None = None
    background_shown_at: Moment | None = None
    """When the visiting staff were shown the pupil briefing."""
    authorised_by: StaffMember | None = None
    authorised_at: Moment | None = None
    signed_out_at: Moment | None = None
    check_ins: tuple[CheckIn, ...] = ()
    returned_at: Moment | None = None
    returning_to_school: bool = True
    """False when staff go home or elsewhere after the visit."""
    escalation_started_at: Moment | None = None
    outcome: VisitOutcome | None = None

    @model_validator(mode="after")
    def _times_in_order(self) -> Visit:
        if self.expected_return is not None and self.expected_return <= self.planned_start:
            raise ValueError("expected_return must be after planned_start")
        return self

    @property
    def lone(self) -> bool:
        """A single member of staff is going."""
        return len(self.staff) < 2

    @property
    def mobiles(self) -> list[str]:
        return [s.mobile for s in self.staff if s.mobile]

    @property
    def stage_reached(self) -> Stage:
        """The latest stage whose rules apply now: up to sign-out before staff leave,
        up to return while they are out, and every stage once they are back or reported."""
        if self.outcome is not None or self.returned_at is not None:
            return Stage.AFTER
        if self.signed_out_at is not None:
            return Stage.RETURN
        return Stage.SIGN_OUT

    def last_contact(self) -> datetime | None:
        """The latest of sign-out and every check-in."""
        moments = [c.at for c in self.check_ins]
        if self.signed_out_at is not None:
            moments.append(self.signed_out_at)
        return max(moments, default=None)
