"""Reading one Wonde session mark: its code's meaning, and what is quarantined rather than guessed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hv_connector.builtin.wonde_register import code_book, mark_item
from hv_connector.clients.wonde.payloads import Page
from hv_connector.sync.attendance import SessionMark
from hv_connector.sync.records import Rejected

CODES = {"A9000000001": ("N", "unauthorised"), "A9000000002": ("#", "not-possible")}
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 20)


def mark(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "A0400000001", "student": "A1400000001",
                           "date": {"date": "2026-11-17 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
                           "session": "AM", "attendance_code_id": "A9000000001"}
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not ...}


def test_a_mark_reads_with_its_code_and_meaning() -> None:
    item = mark_item(mark(), CODES, FIRST, LAST)
    assert item == SessionMark("A1400000001", date(2026, 11, 17), "AM", "N", "unauthorised", None)


def test_a_pupil_included_as_a_relation_and_a_lower_case_session_are_read() -> None:
    item = mark_item(mark(student={"data": {"id": "A1400000002"}}, session="pm"), CODES, FIRST, LAST)
    assert isinstance(item, SessionMark) and (item.pupil_mis_id, item.session) == ("A1400000002", "PM")


def test_a_code_missing_from_the_schools_list_is_kept_as_unknown() -> None:
    item = mark_item(mark(attendance_code_id="A9999999999"), CODES, FIRST, LAST)
    assert isinstance(item, SessionMark) and item.meaning == "unknown"


def test_a_code_carried_on_the_mark_itself_is_read_the_dfe_way() -> None:
    item = mark_item(mark(attendance_code_id=None, code="I"), CODES, FIRST, LAST)
    assert isinstance(item, SessionMark) and (item.code, item.meaning) == ("I", "authorised")


def test_a_mark_outside_the_days_asked_is_dropped() -> None:
    assert mark_item(mark(date="2026-11-23"), CODES, FIRST, LAST) is None


def test_a_mark_without_pupil_day_or_session_is_quarantined_with_the_reason() -> None:
    for broken, said in ((mark(student=...), "student"), (mark(date=None), "no date"),
                         (mark(session="evening"), "neither AM nor PM")):
        item = mark_item(broken, CODES, FIRST, LAST)
        assert isinstance(item, Rejected) and said in item.reason
        assert item.resource == "attendance/session" and item.record_id == "A0400000001"


VALUES = st.none() | st.integers() | st.text(max_size=12) | st.just({"data": {"id": "A1"}}) | st.just(["x"])


@given(st.fixed_dictionaries({}, optional=dict.fromkeys(
    ("id", "student", "date", "session", "attendance_code_id", "code"), VALUES)))
def test_any_record_becomes_a_mark_a_rejection_or_nothing_never_an_error(raw: dict[str, Any]) -> None:
    item = mark_item(raw, CODES, FIRST, LAST)
    assert item is None or isinstance(item, SessionMark | Rejected)


@given(st.sampled_from(["A1400000001", "", 7]), st.sampled_from(["2026-11-17 00:00:00.000000", "2026-11-17", "17/11/2026"]),
       st.sampled_from(["AM", "PM", "am", None]), st.sampled_from(["A9000000001", "A9999999999", None]),
       st.sampled_from([{"date": "2026-11-17 09:00:05.000000", "timezone_type": 3, "timezone": "UTC"},
                        {"date": "2026-11-17 09:00:05.000000", "timezone_type": 3, "timezone": "Europe/London"},
                        None]))
def test_the_quick_reading_of_a_usual_mark_agrees_with_full_validation(
        student: Any, day: str, session: Any, code_id: Any, stamp: Any) -> None:
    raw = mark(student=student, date={"date": day, "timezone_type": 3, "timezone": "Europe/London"},
               session=session, attendance_code_id=code_id, updated_at=stamp)
    quick = mark_item(raw, CODES, FIRST, LAST)
    related = {**raw, "student": {"data": {"id": student}}}  # the pupil as a relation: not the usual shape, validated
    validated = mark_item(related, CODES, FIRST, LAST)
    if isinstance(quick, Rejected):
        assert isinstance(validated, Rejected)
    else:
        assert quick == validated


def test_the_other_spellings_of_a_marks_pupil_code_and_session_are_read_alike() -> None:
    """wonde.md §0 names a mark's ``date``, AM/PM and ``attendance_code_id`` only: each alias reads the same."""
    for session in ("AM", "a", "Morning"):
        raw = mark(student=..., student_id="A1400000001", attendance_code_id=...,
                   attendance_code={"data": {"id": "A9000000001"}}, session=session)
        assert mark_item(raw, CODES, FIRST, LAST) == SessionMark(
            "A1400000001", date(2026, 11, 17), "AM", "N", "unauthorised", None)
    assert isinstance(item := mark_item(mark(session="afternoon"), CODES, FIRST, LAST), SessionMark)
    assert item.session == "PM"


@pytest.mark.parametrize("field", ["statistical_meaning", "meaning", "type", "category"])
def test_a_schools_own_code_takes_its_meaning_from_any_spelling_of_the_field(field: str) -> None:
    record = {"id": "A9000000003", "code": "#", "description": "Planned closure", field: "ATTENDANCE_NOT_REQUIRED"}
    assert asyncio.run(code_book(_Codes([record]), "A1")) == {"A9000000003": ("#", "not-possible")}


def test_a_code_without_a_meaning_field_reads_its_description_and_a_national_code_its_dfe_meaning() -> None:
    records = [{"id": "A1", "code": "@", "description": "Unauthorised: other"}, {"id": "A2", "code": "I"}]
    assert asyncio.run(code_book(_Codes(records), "A1")) == {"A1": ("@", "unauthorised"), "A2": ("I", "authorised")}


class _Codes:
    """A client whose one page of ``attendance-codes`` is ``records``."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    async def pages(self, school: str, resource: str) -> AsyncIterator[Page]:
        yield Page(data=self.records)
