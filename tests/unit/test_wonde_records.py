"""Wonde records into normalised pupil records: what the briefing relies on, and fuzzing that nothing crashes."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hv_connector.builtin.wonde_adapter import deletion_item, period_key, student_item
from hv_connector.store import Store
from hv_connector.store.schema import pupils, quarantine
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.records import Departure, PupilRecord, Rejected
from hv_connector.sync.store import write_pupils


def php(moment: str, zone: str = "UTC") -> dict[str, Any]:
    return {"date": f"{moment}.000000", "timezone_type": 3, "timezone": zone}


def wonde_student(**overrides: Any) -> dict[str, Any]:
    record = {
        "id": "A1000000001", "upn": "X123456789012", "forename": "Siobhán", "surname": "O'Brien",
        "date_of_birth": php("2016-05-04 00:00:00", "Europe/London"),
        "updated_at": php("2026-10-30 08:00:00"),
        "contact_details": {"data": {"phones": {"mobile": None}, "addresses": {"home": {
            "house_number": "12", "street": "Larkspur Road", "town": "Oakbridge", "postcode": "XA1 2BC"}}}},
        "contacts": {"data": [
            {"id": "C1", "forename": "Mary", "surname": "O'Brien",
             "relationship": {"relationship": "Mother", "parental_responsibility": True, "priority": 1,
                              "lives_with_pupil": True},
             "contact_details": {"data": {"phones": {"mobile": "07700 900101"}}}},
            {"id": "C2", "forename": "Sean", "surname": "O'Brien",
             "relationship": {"relationship": "Father", "parental_responsibility": True, "priority": 2,
                              "court_order": True, "no_contact": True},
             "contact_details": {"data": None}},
        ]},
        "medical_conditions": {"data": [{"id": "M1", "description": "Asthma", "notes": "Blue inhaler in class."}]},
        "medical_notes": {"data": [{"id": "N1", "text": "Dog at the property — ring first."}]},
        "sen_needs": {"data": [{"id": "S1", "type": "SLCN", "description": "Speech, language and communication"}]},
        "attendance_summary": {"data": [
            {"period": "Autumn term 2026 to date", "possible": 110, "present": 99, "authorised_absence": 6,
             "unauthorised_absence": 5},
            {"period": "Last three months", "possible_sessions": 104, "attended_sessions": 90},
        ]},
        "extended_details": {"data": {"child_protection_plan": True, "in_lea_care": False}},
    }
    record.update(overrides)
    return record


def test_a_student_becomes_a_pupil_with_the_background_the_briefing_needs() -> None:
    pupil = student_item(wonde_student())
    assert isinstance(pupil, PupilRecord)
    assert pupil.display_name == "Siobhán O'Brien"
    assert pupil.address_text == "12 Larkspur Road, Oakbridge, XA1 2BC"
    assert pupil.mis_updated_at == datetime(2026, 10, 30, 8, tzinfo=timezone.utc)
    mother, father = pupil.contacts
    assert mother.parental_responsibility and mother.phones == ("07700 900101",)
    assert father.no_contact and father.phones == ()
    kinds = [a.kind for a in pupil.alerts]
    assert kinds == ["no-contact", "child-protection-plan"]
    assert "Sean O'Brien (Father) must have no contact" in pupil.alerts[0].text
    assert [m.kind for m in pupil.medical] == ["condition", "note"]
    assert pupil.medical[0].description == "Asthma — Blue inhaler in class."
    assert pupil.sen[0].need == "Speech, language and communication (SLCN)"
    term, recent = pupil.attendance
    assert (term.period, term.possible, term.attended, term.authorised, term.unauthorised) == ("term", 110, 99, 6, 5)
    assert (recent.period, recent.attended) == ("3m", 90)


def test_missing_scopes_come_through_as_nothing_known_rather_than_errors() -> None:
    pupil = student_item(wonde_student(date_of_birth=None, contact_details=None, contacts={"data": []},
                                       medical_conditions=None, sen_needs=None, attendance_summary=None,
                                       extended_details={"data": None}))
    assert isinstance(pupil, PupilRecord)
    assert pupil.date_of_birth is None and pupil.address_text is None and pupil.contacts == ()


def test_markup_in_a_name_is_kept_as_text() -> None:
    pupil = student_item(wonde_student(forename="[bold red]Test[/]", surname="<b>x</b>"))
    assert pupil.display_name == "[bold red]Test[/] <b>x</b>"


@pytest.mark.parametrize(("change", "reason"), [
    ({"id": None}, "id"),
    ({"forename": "", "surname": None, "legal_forename": None}, "no name"),
    ({"contacts": {"data": [{"forename": "No id"}]}}, "contacts.0.id"),
    ({"updated_at": {"date": "yesterday", "timezone": "UTC"}}, "updated_at"),
    ({"date_of_birth": php("2016-05-04 00:00:00", "Mars/Olympus")}, "time zone"),
])
def test_a_bad_student_is_rejected_with_its_id_and_the_reason(change: dict[str, Any], reason: str) -> None:
    item = student_item(wonde_student(**change))
    assert isinstance(item, Rejected)
    assert item.resource == "students" and reason in item.reason
    assert item.record_id == (None if change.get("id", "x") is None else "A1000000001")


def test_deletions_archive_students_and_drop_contacts() -> None:
    left = deletion_item({"id": "A1", "type": "student", "deleted_at": php("2026-11-02 10:00:00")})
    back = deletion_item({"id": "A2", "type": "student", "restored_at": php("2026-11-03 10:00:00")})
    contact = deletion_item({"id": "C9", "type": "contact"})
    assert left == Departure(mis_id="A1", kind="pupil", at=datetime(2026, 11, 2, 10, tzinfo=timezone.utc))
    assert back.restored and contact.kind == "contact"
    assert isinstance(deletion_item({"type": "student"}), Rejected)


@pytest.mark.parametrize(("name", "days", "key"), [
    ("Autumn term 2026 to date", 78, "term"), ("Last three months", 91, "3m"), (None, 91, "3m"),
    ("Year to date", 300, "Year to date"),
])
def test_attendance_periods_are_named_for_the_briefing(name: str | None, days: int, key: str) -> None:
    assert period_key(name, days) == key


# --- fuzzing -----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["id", "forename", "surname", "upn", "date_of_birth", "updated_at", "contact_details", "contacts",
          "medical_conditions", "medical_notes", "sen_needs", "attendance_summary", "extended_details"]


@st.composite
def mangled_students(draw: st.DrawFn) -> Any:
    """A plausible student with some fields replaced by arbitrary JSON, or arbitrary JSON outright."""
    if draw(st.booleans()):
        return draw(json_values)
    record = wonde_student(id=draw(st.text(alphabet="A0123456789", min_size=1, max_size=11)))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        record[name] = draw(json_values)
    return record


@given(mangled_students())
@settings(max_examples=150, deadline=None)
def test_no_student_record_crashes_parsing(raw: Any) -> None:
    item = student_item(raw)
    assert isinstance(item, (PupilRecord, Rejected))
    if isinstance(item, Rejected):
        assert item.reason
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
            assert item.record_id == raw["id"]


@given(json_values)
@settings(max_examples=100, deadline=None)
def test_no_deletion_record_crashes_parsing(raw: Any) -> None:
    assert isinstance(deletion_item(raw), (Departure, Rejected))


@pytest.fixture(scope="module")
def memory_store() -> Store:
    return Store.open("sqlite://")


SCHOOLS = itertools.count()


@given(st.lists(mangled_students(), min_size=1, max_size=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_record_of_a_page_is_either_stored_or_quarantined(memory_store: Store, page: list[Any]) -> None:
    school_id = f"fuzz-{next(SCHOOLS)}"  # a fresh school per example: the store outlives them
    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    batch = [student_item(raw) for raw in page]
    result = SchoolResult(school_id, now)
    with memory_store.begin() as conn:
        write_pupils(conn, school_id, batch, result, now)
    with memory_store.connect() as conn:
        stored = conn.execute(select(func.count()).where(pupils.c.school_id == school_id)).scalar()
        held = conn.execute(select(func.count()).where(quarantine.c.school_id == school_id)).scalar()
    good_ids = {item.mis_id for item in batch if isinstance(item, PupilRecord)}
    bad = [item for item in batch if isinstance(item, Rejected)]
    assert stored == len(good_ids)
    assert result.quarantined == len(bad)
    assert held >= 1 if bad else held == 0
