"""Wonde's register: AM/PM session marks and the school's attendance codes.

``GET schools/{id}/attendance/session`` lists one record per pupil per session
(``student``, ``date``, ``session``, ``attendance_code_id``); ``GET schools/{id}/attendance-codes``
lists each code with its meaning. Both are paged like every list. Which query parameters
limit session marks to a range of days is unverified (``shared/apis/wonde.md`` §0, §5): the
names are a parameter here, and callers keep only the days they asked for whatever comes back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field

from hv_connector.clients.wonde.client import CURSOR_PAGING, WondeClient
from hv_connector.clients.wonde.payloads import Page, Payload, WondeDate, WondeTime

SESSION_MARKS = "attendance/session"
ATTENDANCE_CODES = "attendance-codes"
DAY_FILTERS: tuple[str, str] = ("start_date", "end_date")
"""The query parameters asked to limit marks to a range of days (first, last); unverified against Wonde."""


def _related_id(value: Any) -> Any:
    """A relation given as an id, or included as ``{"data": {"id": …}}``."""
    if isinstance(value, dict):
        value = value.get("data", value)
        value = value.get("id") if isinstance(value, dict) else value
    return value


RelatedId = Annotated[str, BeforeValidator(_related_id)]


class SessionMarkPayload(Payload):
    """One AM or PM register mark for one pupil."""

    id: str | None = None
    student: RelatedId = Field(min_length=1, validation_alias=AliasChoices("student", "student_id"))
    date: WondeDate
    session: str = Field(min_length=1)
    attendance_code_id: RelatedId | None = Field(default=None,
                                                validation_alias=AliasChoices("attendance_code_id", "attendance_code"))
    code: str | None = None
    """The code itself, where a mark carries it as well as (or instead of) the code's id."""
    updated_at: WondeTime = None


class AttendanceCodePayload(Payload):
    """One of the school's attendance codes, with its statistical meaning as the MIS names it."""

    id: str
    code: str | None = None
    description: str | None = None
    meaning: str | None = Field(default=None, validation_alias=AliasChoices(
        "statistical_meaning", "meaning", "type", "category"))


async def attendance_codes(client: WondeClient, school: str) -> list[AttendanceCodePayload]:
    """The school's attendance codes (a code that fails validation is left out: its marks read as unknown)."""
    codes = []
    async for page in client.pages(school, ATTENDANCE_CODES):
        for raw in page.records:
            try:
                codes.append(AttendanceCodePayload.model_validate(raw))
            except ValueError:
                continue
    return codes


def session_marks(
    client: WondeClient,
    school: str,
    first: date,
    last: date,
    *,
    since: datetime | None = None,
    day_filters: tuple[str, str] = DAY_FILTERS,
) -> AsyncIterator[Page]:
    """Pages of the school's session marks for days ``first`` to ``last``, changed after ``since`` if given.

    :param day_filters: the names of the first-day and last-day parameters (see :data:`DAY_FILTERS`).
    """
    params = {**CURSOR_PAGING, day_filters[0]: first.isoformat(), day_filters[1]: last.isoformat()}
    return client.pages(school, SESSION_MARKS, since=since, params=params)
