"""The Wonde adapter's register: session marks, each read with its code's statistical meaning.

The school's attendance codes are read once a walk; each mark's ``attendance_code_id`` is
looked up there and the code's meaning taken from the DfE 2024 list, or from Wonde's own
description for a code the list does not have (:func:`hv_connector.attendance.codes.meaning_of`).
A mark whose code is missing from the list is kept, its meaning unknown (the figures leave it
out and count it). A mark with no pupil, day or session is quarantined like any bad record.
Marks outside the days asked for are dropped, whichever day filters Wonde honoured.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime, timezone
from typing import Any

from pydantic import ValidationError

from hv_connector.attendance.codes import meaning_of
from hv_connector.clients.wonde.attendance import (
    DAY_FILTERS,
    SESSION_MARKS,
    SessionMarkPayload,
    attendance_codes,
    session_marks,
)
from hv_connector.clients.wonde.client import WondeClient
from hv_connector.sync.attendance import SESSIONS, MarkItem, SessionMark
from hv_connector.sync.records import Rejected

CodeBook = Mapping[str, tuple[str, str]]
"""A school's attendance code id → (the code, its meaning)."""

INLINE_MARKS = 250
"""A page of up to this many marks (Wonde's pages hold 200) is read on the event loop, in about half a millisecond:
handing it to a worker thread would cost more CPU than reading it. A bigger page is read in a worker thread."""

_SESSION_WORDS = {"AM": "AM", "A": "AM", "MORNING": "AM", "PM": "PM", "P": "PM", "AFTERNOON": "PM"}


def mark_item(raw: Any, codes: CodeBook, first: date, last: date) -> MarkItem | None:
    """One raw mark as a :class:`SessionMark`, the reason it cannot be one, or ``None`` outside the days asked."""
    plain = _plain_mark(raw, codes)
    if plain is not None:
        return plain if first <= plain.day <= last else None
    try:
        mark = SessionMarkPayload.model_validate(raw)
        session = _SESSION_WORDS.get(mark.session.strip().upper())
        if session is None:
            raise ValueError(f"session {mark.session[:20]!r} is neither {' nor '.join(SESSIONS)}")
        if mark.date is None:
            raise ValueError("the mark has no date")
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in problem["loc"]) or "record"
        return _rejected(raw, f"{where}: {problem['msg']}")
    except ValueError as exc:
        return _rejected(raw, str(exc))
    if not first <= mark.date <= last:
        return None
    found = codes.get(mark.attendance_code_id or "")
    code, meaning = found if found else ((mark.code or "?").strip() or "?", meaning_of(mark.code))
    return SessionMark(mark.student, mark.date, session, code, meaning, mark.updated_at)


def _plain_mark(raw: Any, codes: CodeBook) -> SessionMark | None:
    """The mark read without pydantic when it has exactly the usual shape (a school year is millions of marks);
    ``None`` for anything else, which :func:`mark_item` then validates in full."""
    if type(raw) is not dict:
        return None
    student, when, session, code_id, stamp = (raw.get("student"), raw.get("date"), raw.get("session"),
                                              raw.get("attendance_code_id"), raw.get("updated_at"))
    if not (type(student) is str and student and type(when) is dict and type(code_id) is str
            and code_id in codes and session in SESSIONS and type(stamp) is dict
            and stamp.get("timezone") == "UTC" and raw.get("code") is None):
        return None
    day_text, stamp_text = when.get("date"), stamp.get("date")
    if type(day_text) is not str or type(stamp_text) is not str:
        return None
    try:
        day = date.fromisoformat(day_text[:10])
        updated = datetime.fromisoformat(stamp_text).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    code, meaning = codes[code_id]
    return SessionMark(student, day, session, code, meaning, updated)


def _rejected(raw: Any, reason: str) -> Rejected:
    record_id = raw.get("id") if isinstance(raw, dict) else None
    return Rejected(resource=SESSION_MARKS, record_id=str(record_id)[:100] if record_id is not None else None,
                    reason=reason, payload=raw if isinstance(raw, dict) else {"value": raw})


def _page_marks(records: list[Any], codes: CodeBook, first: date, last: date) -> list[MarkItem]:
    return [item for item in (mark_item(raw, codes, first, last) for raw in records) if item is not None]


async def code_book(client: WondeClient, school: str) -> CodeBook:
    """The school's attendance codes by id, each with its statistical meaning."""
    return {c.id: ((c.code or "?").strip() or "?", meaning_of(c.code, c.meaning or c.description))
            for c in await attendance_codes(client, school)}


async def register_pages(
    client: WondeClient, school: str, first: date, last: date, since: datetime | None,
    day_filters: tuple[str, str] = DAY_FILTERS,
) -> AsyncIterator[list[MarkItem]]:
    """The school's marks for days ``first`` to ``last`` (changed since ``since``), a page at a time."""
    codes = await code_book(client, school)
    async for page in session_marks(client, school, first, last, since=since, day_filters=day_filters):
        if len(page.records) <= INLINE_MARKS:
            yield _page_marks(page.records, codes, first, last)
        else:  # off the event loop, so other schools' requests keep their pace
            yield await asyncio.to_thread(_page_marks, page.records, codes, first, last)
