"""Session marks for test pupils: an attendance figure made the way the sync stores it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def mark_rows(school_id: str, mis_id: str, attended: int, possible: int, last_day: date) -> list[dict[str, Any]]:
    """``possible`` AM/PM marks on the weekdays up to ``last_day``: the oldest ``possible - attended`` unauthorised
    (``O``), the rest present; rows for ``pupil_session_marks``."""
    rows: list[dict[str, Any]] = []
    day = last_day
    while len(rows) < possible:
        if day.weekday() < 5:
            for session in ("PM", "AM")[: possible - len(rows)]:
                rows.append({"school_id": school_id, "pupil_mis_id": mis_id, "day": day, "session": session})
        day -= timedelta(days=1)
    for n, row in enumerate(reversed(rows)):
        absent = n < possible - attended
        row.update(code="O" if absent else "/", meaning="unauthorised" if absent else "present")
    return rows
