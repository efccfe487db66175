"""Wonde records into normalised pupil records: what the briefing relies on, and fuzzing that nothing crashes."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hv_connector.builtin.wonde_adapter import deletion_item, student_item, withheld_sections
from hv_connector.clients.wonde.payloads import Permission
from hv_connector.read.briefing import pupil_briefing
from hv_connector.store import Store
from hv_connector.store.schema import pupils, quarantine
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.records import Departure, PupilRecord, Rejected
from hv_connector.sync.store import write_pupils
from hv_connector.text import neutralise


def php(moment: str, zone: str = "UTC") -> dict[str, Any]:
    return {"date": f"{moment}.000000", "timezone_type": 3, "timezone": zone}


TODAY = date(2026, 11, 23)


def wonde_student(**overrides: Any) -> dict[str, Any]:
    """A student as Wonde documents it (wonde.md §0): ids apart, UPN in education_details, date ranges."""
    record = {
        "id": "A1000000001", "mis_id": "9919", "upi": "8d444684b7aa79bc97f8594a4aab7ce3",
        "forename": "Siobhán", "surname": "O'Brien",
        "date_of_birth": php("2016-05-04 00:00:00", "Europe/London"),
        "updated_at": php("2026-10-30 08:00:00"),
        "contact_details": {"data": {"phones": {"mobile": None}, "addresses": {"home": {
            "house_number": "12", "street": "Larkspur Road", "town": "Oakbridge", "postcode": "XA1 2BC"}}}},
        "contacts": {"data": [
            {"id": "C1", "forename": "Mary", "surname": "O'Brien",
             "relationship": {"relationship": "Mother", "parental_responsibility": True, "priority": 1,
                              "lives_with_pupil": True, "bill_payer": True, "email_bills": True},
             "contact_details": {"data": {"phones": {"mobile": "07700 900101"}}}},
            {"id": "C2", "forename": "Sean", "surname": "O'Brien",
             "relationship": {"relationship": "Father", "parental_responsibility": None, "priority": 2,
                              "lives_with_pupil": None},
             "contact_details": {"data": None}},
        ]},
        "medical_conditions": {"data": [{"id": "M1", "description": "Asthma",
                                         "notes": {"data": [{"id": "N0", "note": "Blue inhaler in class."}]}}]},
        "medical_notes": {"data": [{"id": "N1", "note": "Dog at the property — ring first."}]},
        "sen_needs": {"data": [{"id": "S1", "rank": 1, "sen_category": {"data": {
            "code": "SLCN", "name": "Speech, language and communication"}}}]},
        "attendance_summary": {"data": {"possible_marks": 110, "present_marks": 99, "authorised_absence_marks": 6,
                                        "unauthorised_absence_marks": 5}},
        "extended_details": {"data": {"sen_status": "K", "in_lea_care": False}},
        "education_details": {"data": {"upn": "X123456789012", "current_nc_year": "5"}},
        "child_protection_plan_date_ranges": {"data": [{"start_date": php("2026-06-01 00:00:00"), "end_date": None}]},
        "in_care_date_ranges": {"data": []},
    }
    record.update(overrides)
    return record


def read(raw: Any, withheld: frozenset[str] = frozenset()) -> Any:
    return student_item(raw, today=TODAY, withheld=withheld)


def test_a_student_becomes_a_pupil_with_the_background_the_briefing_needs() -> None:
    pupil = read(wonde_student())
    assert isinstance(pupil, PupilRecord)
    assert (pupil.mis_id, pupil.native_id, pupil.upi, pupil.upn) == (
        "A1000000001", "9919", "8d444684b7aa79bc97f8594a4aab7ce3", "X123456789012")
    assert pupil.display_name == "Siobhán O'Brien" and pupil.year_group == "5"
    assert pupil.address_text == "12 Larkspur Road, Oakbridge, XA1 2BC"
    assert pupil.mis_updated_at == datetime(2026, 10, 30, 8, tzinfo=timezone.utc)
    mother, father = pupil.contacts
    assert mother.parental_responsibility and mother.phones == ("07700 900101",)
    assert father.parental_responsibility is None and father.lives_with_pupil is None  # not shared: unknown
    assert father.phones == ()
    assert [a.kind for a in pupil.alerts] == ["child-protection-plan"]
    assert "since 01 Jun 2026" in pupil.alerts[0].text
    assert [m.kind for m in pupil.medical] == ["condition", "note"]
    assert pupil.medical[0].description == "Asthma — Blue inhaler in class."
    assert pupil.sen[0].need == "rank 1: Speech, language and communication (SLCN)"
    [summary] = pupil.attendance
    assert (summary.period, summary.possible, summary.attended, summary.unauthorised) == ("summary", 110, 99, 5)
    assert pupil.gaps == {}


def test_an_ended_plan_or_care_is_told_apart_from_a_current_one() -> None:
    ended = {"data": [{"start_date": php("2024-01-08 00:00:00"), "end_date": php("2024-07-26 00:00:00")}]}
    pupil = read(wonde_student(child_protection_plan_date_ranges=ended, in_care_date_ranges={"data": [
        {"start_date": php("2025-01-01 00:00:00"), "end_date": None}]}))
    assert [a.kind for a in pupil.alerts] == ["child-protection-plan-ended", "looked-after"]


def test_a_court_order_flag_says_its_terms_are_not_in_the_feed() -> None:
    contacts = {"data": [{"id": "C2", "forename": "Sean", "relationship": {"relationship": "Father",
                                                                          "court_order": "Y"}}]}
    pupil = read(wonde_student(contacts=contacts))
    assert pupil.alerts[0].kind == "court-order"
    assert "not available from the MIS — check with the DSL" in pupil.alerts[0].text


def test_missing_scopes_come_through_as_withheld_rather_than_errors_or_none() -> None:
    pupil = read(wonde_student(date_of_birth=None, contact_details=None, contacts=None, medical_conditions=None,
                               sen_needs=None, attendance_summary=None, extended_details={"data": None}))
    assert isinstance(pupil, PupilRecord)
    assert pupil.date_of_birth is None and pupil.address_text is None and pupil.contacts == ()
    assert pupil.gaps == {"address": "withheld", "contacts": "withheld", "medical": "withheld", "sen": "withheld",
                          "attendance": "withheld"}


def test_scopes_the_school_did_not_grant_are_withheld_even_when_the_lists_come_back_empty() -> None:
    pupil = read(wonde_student(medical_conditions={"data": []}, medical_notes={"data": []}),
                 withheld=frozenset({"medical"}))
    assert pupil.medical == () and pupil.gaps == {"medical": "withheld"}


def test_data_that_arrived_is_kept_when_the_permissions_seem_to_withhold_it() -> None:
    # The scopes are read by their wording; a wording we guessed wrong must not make a pupil look clean.
    granted = read(wonde_student())
    pupil = read(wonde_student(), withheld=frozenset({"medical", "contacts"}))
    assert granted.medical and pupil.medical == granted.medical
    assert granted.contacts and pupil.contacts == granted.contacts
    assert "medical" not in pupil.gaps and "contacts" not in pupil.gaps


def test_permissions_name_the_sections_granted() -> None:
    granted = [Permission(identity="students.read"), Permission(identity="contacts.read"),
               Permission(identity="students.contact_details.read"), Permission(name="Special educational needs"),
               Permission(identity="attendance.read"), Permission(identity="medical.read", approved=False)]
    assert withheld_sections(granted) == {"medical"}
    assert withheld_sections([Permission(identity="students.contact_details.read")]) == {
        "medical", "sen", "contacts", "attendance"}
    assert withheld_sections(None) == frozenset()  # unknown: nothing is called withheld


def test_scopes_named_after_their_includes_count_as_granted() -> None:
    granted = [Permission(identity="students.medical_conditions.read"), Permission(identity="students.sen_needs"),
               Permission(identity="contacts"), Permission(identity="students.attendance_summary.read")]
    assert withheld_sections(granted) == frozenset()


def test_sen_status_alone_still_shows_a_need() -> None:
    pupil = read(wonde_student(sen_needs={"data": []}, extended_details={"data": {"sen_status": "E"}}))
    assert [s.need for s in pupil.sen] == ["Education, health and care plan (E)"]


@pytest.mark.parametrize(("name", "shape"), [
    ("medical_conditions", {"data": [{"id": "M1", "description": "Asthma", "notes": 42}]}),
    ("medical_conditions", {"data": [["a", "list"], {"id": "M2", "description": "Eczema"}]}),
    ("sen_needs", {"data": "SLCN"}),
    ("contacts", {"data": [{"forename": "No id"}, {"id": "C9", "forename": "Kept"}]}),
    ("attendance_summary", {"data": {"possible_marks": "many"}}),
    ("child_protection_plan_date_ranges", {"data": [{"start_date": "last spring"}]}),
])
def test_a_related_field_in_a_new_shape_leaves_a_gap_and_keeps_the_pupil(name: str, shape: Any) -> None:
    pupil = read(wonde_student(**{name: shape}))
    assert isinstance(pupil, PupilRecord)
    assert pupil.display_name == "Siobhán O'Brien" and pupil.upn == "X123456789012"
    assert "unreadable" in pupil.gaps.values()


def test_an_include_not_sent_is_not_sent_not_none() -> None:
    raw = wonde_student()
    del raw["sen_needs"]
    assert read(raw).gaps == {"sen": "not-sent"}


def test_markup_in_a_name_is_kept_as_text() -> None:
    pupil = read(wonde_student(forename="[bold red]Test[/]", surname="<b>x</b>"))
    assert pupil.display_name == "[bold red]Test[/] <b>x</b>"


@pytest.mark.parametrize(("change", "reason"), [
    ({"id": None}, "id"),
    ({"forename": "", "surname": None, "legal_forename": None}, "no name"),
    ({"updated_at": {"date": "yesterday", "timezone": "UTC"}}, "updated_at"),
    ({"date_of_birth": php("2016-05-04 00:00:00", "Mars/Olympus")}, "time zone"),
])
def test_a_bad_student_is_rejected_with_its_id_and_the_reason(change: dict[str, Any], reason: str) -> None:
    item = read(wonde_student(**change))
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


# --- fuzzing -----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

AS_OF = date(2026, 11, 20)
"""The day the briefing is read: attendance figures run to it."""
FIELDS = ["id", "forename", "surname", "upn", "date_of_birth", "updated_at", "contact_details", "contacts",
          "medical_conditions", "medical_notes", "sen_needs", "attendance_summary", "extended_details",
          "education_details", "child_protection_plan_date_ranges", "in_care_date_ranges"]
RELATED = FIELDS[6:]


@st.composite
def mangled_students(draw: st.DrawFn) -> Any:
    """A plausible student with some fields replaced by arbitrary JSON, or arbitrary JSON outright."""
    if draw(st.booleans()):
        return draw(json_values)
    record = wonde_student(id=draw(st.text(alphabet="A0123456789", min_size=1, max_size=11)))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        record[name] = draw(json_values)
    return record


@given(st.lists(st.tuples(st.sampled_from(RELATED), json_values), min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_a_related_field_of_any_shape_never_quarantines_the_pupil(changes: list[tuple[str, Any]]) -> None:
    raw = wonde_student()
    for name, value in changes:
        raw[name] = value
    pupil = read(raw)
    assert isinstance(pupil, PupilRecord), pupil
    assert pupil.display_name == "Siobhán O'Brien" and pupil.native_id == "9919"


@given(mangled_students())
@settings(max_examples=150, deadline=None)
def test_no_student_record_crashes_parsing(raw: Any) -> None:
    item = read(raw)
    assert isinstance(item, (PupilRecord, Rejected))
    if isinstance(item, Rejected):
        assert item.reason
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
            assert item.record_id == neutralise(raw["id"])  # MIS text, stored as data


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
    batch = [read(raw) for raw in page]
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


def test_a_section_that_comes_unreadable_keeps_the_last_whole_rows(memory_store: Store) -> None:
    school_id = f"keep-{next(SCHOOLS)}"
    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    with memory_store.begin() as conn:
        write_pupils(conn, school_id, [read(wonde_student())], SchoolResult(school_id, now), now)
    changed = wonde_student(medical_conditions={"data": [{"id": "M1", "notes": 42}]}, medical_notes={"data": []},
                            sen_needs={"data": []}, updated_at=php("2026-11-22 08:00:00"))
    with memory_store.begin() as conn:
        write_pupils(conn, school_id, [read(changed)], SchoolResult(school_id, now), now)
    with memory_store.connect() as conn:
        briefing = pupil_briefing(conn, school_id, "A1000000001", AS_OF)
    # Medical came in a new shape: the last whole read stays, marked; SEN came whole (now none): replaced.
    assert [m.description for m in briefing.medical] == ["Asthma — Blue inhaler in class.",
                                                         "Dog at the property — ring first."]
    assert briefing.gaps == {"medical": "unreadable"} and "last sync that could" in briefing.incomplete("medical")
    assert [s.need for s in briefing.sen] == ["SEN support (K)"]


def test_the_summarys_other_spellings_of_its_marks_are_read_alike() -> None:
    """wonde.md §0 names only ``possible_marks``, ``present_marks`` and "absence marks": each alias reads the same."""
    spelt = {"possible": 110, "present": 95, "aea_marks": 4, "authorised_absences": 6, "unauthorised_absences": 5}
    [summary] = read(wonde_student(attendance_summary={"data": spelt})).attendance
    assert (summary.possible, summary.attended, summary.authorised, summary.unauthorised) == (110, 99, 6, 5)
