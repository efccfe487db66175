"""CPOMS's bodies as pydantic models: what comes in (``extra="ignore"``) and what goes out (``extra="forbid"``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hv_connector.text import neutralise

SOURCE_SYSTEM = "hv-connector"
"""Our name in every incident's ``source.system``: find-by-reference asks for it."""

# --- payloads in (extra="ignore": CPOMS may add fields) ---------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Category(_In):
    """One of the school's CPOMS categories (``GET /categories``)."""

    id: int
    name: str
    parent_id: int | None = None
    colour: str | None = None
    active: bool = True
    can_add: bool = True


class Student(_In):
    """A pupil as CPOMS knows them (``GET /students``)."""

    id: int
    upn: str | None = None
    mis_id: str | None = None
    admission_number: str | None = None
    forename: str = ""
    surname: str = ""
    date_of_birth: date | None = None
    year_group: str | None = None
    on_roll: bool = True


Said = Annotated[str, AfterValidator(neutralise)]
"""The receiver's own words, neutralised as they are read: a refusal's reason is stored with the parked record
and shown by ``hvc push``, the outbox and the logs, so a line break in it cannot forge a line."""


class ErrorDetail(_In):
    field: Said | None = None
    issue: Said | None = None


class ErrorBody(_In):
    """The ``error`` object of every non-2xx response."""

    code: Said = "unknown"
    message: Said = ""
    details: list[ErrorDetail] = []
    request_id: Said | None = None


class SourceIn(_In):
    """Our reference on an incident CPOMS returns."""

    system: str | None = None
    record_id: str | None = None
    revision: int | None = None


class Alert(_In):
    staff_email: str
    category_names: list[str] = []


class IncidentResult(_In):
    """What CPOMS says about an incident: the 201 answer, or one found by reference."""

    id: int
    status: str = "recorded"
    student_id: int | None = None
    category_ids: list[int] = []
    created_at: datetime | None = None
    alerts: list[Alert] = []
    source: SourceIn | None = None
    """Our reference, as CPOMS stored it (lookups by reference return it)."""
    replayed: bool = False
    """True when the record was already there: CPOMS replayed an earlier answer for the same Idempotency-Key,
    or we found it by reference after an answer was lost."""
    doubt: str | None = None
    """Why CPOMS may now hold the record twice: it was sent again because a look-up by reference, after an answer
    was lost, could not tell whether the earlier send was stored (``None``: no such doubt)."""

    @model_validator(mode="before")
    @classmethod
    def _ours_alone(cls, data: Any) -> Any:
        """``replayed`` and ``doubt`` are the client's findings, set after reading: never taken from CPOMS's body."""
        return {k: v for k, v in data.items() if k not in _FINDINGS} if isinstance(data, dict) else data


_FINDINGS = frozenset({"replayed", "doubt"})


# --- payloads out (extra="forbid": we send exactly the contract) ------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudentRef(_Out):
    """Which pupil: CPOMS matches the UPN first, then the MIS id."""

    upn: str | None = None
    mis_id: str | None = None
    cpoms_id: int | None = None


class StaffRef(_Out):
    email: str


class IncidentAction(_Out):
    text: str = Field(min_length=1)
    taken_at: AwareDatetime | None = None
    by: StaffRef | None = None


class PresentPerson(_Out):
    name: str
    relationship: str = ""


VisitType = Literal["planned", "welfare_check", "attendance", "cme_enquiry", "emergency"]
VisitOutcomeCode = Literal["child_seen", "child_seen_alone", "parent_seen_child_not_seen", "no_answer", "refused_entry"]


class HomeVisitBlock(_Out):
    """The structured home-visit fields (``kind=home_visit`` only)."""

    visit_type: VisitType = "planned"
    visitors: list[StaffRef] = []
    outcome: VisitOutcomeCode | None = None
    persons_present: list[PresentPerson] = []
    home_conditions: str = ""
    voice_of_child: str = ""
    voice_of_parent: str = ""
    concerns: str = ""
    next_steps: str = ""
    follow_up_on: date | None = None


class Source(_Out):
    system: str = SOURCE_SYSTEM
    record_id: str = Field(min_length=1)
    revision: int = Field(ge=1)


class IncidentRequest(_Out):
    """The body of ``POST /incidents``."""

    kind: Literal["home_visit", "concern"]
    student: StudentRef
    linked_students: list[StudentRef] = []
    category_ids: list[int] = Field(min_length=1, max_length=3)
    occurred_at: AwareDatetime
    location: str | None = None
    description: str = Field(min_length=1, max_length=20000)
    reported_by: StaffRef | None = None
    alert_staff: list[StaffRef] = []
    actions: list[IncidentAction] = []
    home_visit: HomeVisitBlock | None = None
    source: Source
    on_unmatched_student: Literal["reject", "tray"] = "reject"

    def wire(self) -> bytes:
        """The JSON body as sent (``None`` fields left out), encoded by pydantic in one step."""
        return self.model_dump_json(exclude_none=True).encode()
