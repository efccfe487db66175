"""Turning what staff type (a request, a report) into models, or an :class:`InputError` naming the field.

A request is a visit document (the shape of :class:`~hv_connector.models.Visit`)
with three differences that keep it honest:

- ``pupil`` is the pupil's MIS id (or ``{"mis_id": …}``); the name, UPN and
  attendance come from the synced MIS data. A family not yet in the MIS is
  ``"new_family": true`` with ``"pupil": {"name": …}``.
- every person (``staff``, ``planned_with``, ``risk_assessment.signed_off_by`` …)
  is a staff id from the school's directory (or an object with its ``id``);
  the directory, not the document, says who they are.
- what only the lifecycle records (authorisation, sign-out, check-ins, return,
  outcome) cannot be given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hv_connector.errors import InputError, excerpt
from hv_connector.models import CheckIn, PupilRef, Reason, StaffMember, Visit, VisitOutcome, check_plausible
from hv_connector.visits.files import check_plain, describe_validation_error

PAST_GRACE = timedelta(minutes=5)
"""How far in the past a planned start may be (typing takes time) before it must be a record of a past visit."""

LIFECYCLE_FIELDS: tuple[str, ...] = (
    "id", "requested_by", "authorised_by", "authorised_at", "signed_out_at", "check_ins", "returned_at",
    "escalation_started_at", "outcome",
)
"""Visit fields the lifecycle fills in; a request may not set them."""

PERSON_FIELDS: tuple[str, ...] = (
    "planned_with", "safeguarding_discussed_with", "out_of_hours_arranged_by", "welfare_contact", "nearby_staff",
    "lone_visit_agreed_by",
)
RISK_PERSON_FIELDS: tuple[str, ...] = ("completed_by", "completed_with", "signed_off_by")

FindMember = Callable[[str], StaffMember | None]
"""Looks a staff id up in the school's directory."""


def _staff_id(value: Any, field: str) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping) and isinstance(ident := value.get("id"), str) and ident.strip():
        return ident.strip()
    raise InputError(f"{field}: give a staff id from the school's directory, not {excerpt(value)}")


def resolve_member(value: Any, field: str, find: FindMember, school: str) -> StaffMember:
    """The directory's entry for the staff id in ``value``; :class:`InputError` naming ``field`` when unknown."""
    staff_id = _staff_id(value, field)
    member = find(staff_id)
    if member is None:
        raise InputError(
            f"{field}: {excerpt(staff_id)} is not in {school}'s staff directory; "
            "use a directory id (`hvc config show` lists them) or add the person to the directory"
        )
    return member


def _resolve_people(data: dict[str, Any], find: FindMember, school: str) -> None:
    staff = data.get("staff", [])
    if not isinstance(staff, list):
        raise InputError("staff: give a list of staff ids from the school's directory")
    data["staff"] = [resolve_member(v, f"staff[{i}]", find, school) for i, v in enumerate(staff)]
    ids = [m.id for m in data["staff"]]
    if len(set(ids)) != len(ids):
        raise InputError(f"staff: a person is listed twice ({', '.join(ids)})")
    for field in PERSON_FIELDS:
        if data.get(field) is not None:
            data[field] = resolve_member(data[field], field, find, school)
    risk = data.get("risk_assessment")
    if isinstance(risk, Mapping):
        risk = data["risk_assessment"] = dict(risk)  # a copy: the caller's document stays as it was
        for field in RISK_PERSON_FIELDS:
            if risk.get(field) is not None:
                risk[field] = resolve_member(risk[field], f"risk_assessment.{field}", find, school)


def parse_time(value: Any, field: str, naive_zone: tzinfo | None = None) -> datetime:
    """The ISO time someone typed or filed; :class:`InputError` naming ``field`` when it is not one.

    :param naive_zone: the zone of a time given without one (the CLI reads London); ``None`` refuses it.
    """
    moment: datetime | None = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise InputError(f"{field}: {excerpt(value)} is not a time; use ISO form, e.g. 2026-11-23T10:00:00+00:00")
    if moment.tzinfo is None:
        if naive_zone is None:
            raise InputError(f"{field}: {excerpt(value)} has no timezone; add one, e.g. +00:00 (GMT) or +01:00 (BST)")
        moment = moment.replace(tzinfo=naive_zone)
    try:
        return check_plausible(moment)
    except ValueError as exc:
        raise InputError(f"{field}: {excerpt(str(value))} {exc}; check the year") from None


def _moment(data: Mapping[str, Any], field: str) -> datetime | None:
    value = data.get(field)
    return None if value is None else parse_time(value, field)


def check_times(data: Mapping[str, Any], now: datetime, longest: timedelta) -> None:
    """Refuse a start in the past (unless a record of a past visit), a return before the start, and a
    visit planned to last longer than ``longest`` (the school's ``max_visit_hours``)."""
    start = _moment(data, "planned_start")
    if start is None:
        raise InputError("planned_start: say when the visit starts (ISO time with timezone)")
    end = _moment(data, "expected_return")
    if end is not None and end <= start:
        raise InputError(f"expected_return: {end.isoformat()} is not after planned_start {start.isoformat()}")
    if start < now - PAST_GRACE and not data.get("record_of_past_visit"):
        raise InputError(
            f"planned_start: {start.isoformat()} is in the past; if you are recording a visit already made, "
            "set record_of_past_visit (--record-of-past-visit)"
        )
    if end is not None:
        check_length(start, end, longest, "expected_return")


def check_length(start: datetime, end: datetime, longest: timedelta, field: str) -> None:
    """Refuse an expected return more than ``longest`` after ``start``: the watch raises "not back" only
    once it passes, so a return planned far off would leave staff unwatched."""
    if end - start > longest:
        hours = f"{longest.total_seconds() / 3600:g}"
        raise InputError(
            f"{field}: {end.isoformat()} is more than {hours} hours after the start ({start.isoformat()}); "
            f"the school allows visits of up to {hours} hours (`max_visit_hours` under [schools.ID] in hvc.toml)"
        )


def check_reason(code: Any, school: str, reasons: list[Reason]) -> None:
    """Refuse a reason that is not in the school's list, naming the list."""
    if not any(r.code == code for r in reasons):
        known = ", ".join(r.code for r in reasons)
        given = f"{excerpt(code)} is not one of {school}'s reasons" if code else f"give one of {school}'s reasons"
        raise InputError(f"reason: {given}: {known} (`hvc policy show {school}`)")


def pupil_id(data: Mapping[str, Any]) -> str | None:
    """The MIS id the request names (``None`` for a new family without one)."""
    pupil = data.get("pupil")
    if isinstance(pupil, str):
        return pupil.strip() or None
    if isinstance(pupil, Mapping):
        value = pupil.get("mis_id")
        return str(value).strip() if value else None
    return None


def new_family_pupil(data: Mapping[str, Any]) -> PupilRef:
    """The pupil of a new-family request, which must at least be named."""
    pupil = data.get("pupil")
    name = pupil.get("name") if isinstance(pupil, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise InputError('pupil: a new-family visit names the pupil, e.g. "pupil": {"name": "Ana Example"}')
    return PupilRef(name=name.strip(), mis_id=pupil_id(data), known_in_mis=False)


def build_request(
    document: Mapping[str, Any],
    *,
    pupil: PupilRef,
    address: str | None,
    requested_by: StaffMember,
    find: FindMember,
    visit_id: str,
) -> Visit:
    """The requested :class:`Visit`, people resolved from the directory; :class:`InputError` names any bad field.

    The caller has checked the school, reason, pupil and times.
    """
    data = dict(document)
    given = sorted(f for f in LIFECYCLE_FIELDS if data.get(f) not in (None, [], ()))
    if given:
        raise InputError(
            f"{given[0]}: set by hv-connector as the visit goes on, not in a request (remove {', '.join(given)})"
        )
    _resolve_people(data, find, data["school"])
    data.update(id=visit_id, pupil=pupil, requested_by=requested_by)
    if data.get("address") is None:
        data["address"] = address
    return _validated(Visit, data, "the request")


def parse_outcome(document: Mapping[str, Any]) -> VisitOutcome:
    """The report's outcome from a document; :class:`InputError` names any bad field."""
    return _validated(VisitOutcome, document, "the report")


def parse_check_in(document: Mapping[str, Any]) -> CheckIn:
    """A check-in from its fields; :class:`InputError` names any bad field."""
    return _validated(CheckIn, document, "the check-in")


Model = TypeVar("Model", bound=BaseModel)


def _validated(model: type[Model], document: Mapping[str, Any], what: str) -> Model:
    check_plain(document, what)
    try:
        return model.model_validate(dict(document))
    except ValidationError as exc:
        raise InputError(describe_validation_error(what, exc)) from None
