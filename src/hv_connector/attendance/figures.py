"""Per pupil attendance figures from session marks, the DfE way.

Absence rate = (authorised + unauthorised) ÷ possible sessions, where possible sessions are
those marked present, approved educational activity, authorised or unauthorised absence;
sessions that are not possible (and codes with no readable meaning) are left out. Persistent
absence is an absence rate of 10 % or more over the school year so far, severe absence 50 % or
more. The English school year starts on 1 September.

Windows end on ``as_of`` (inclusive; later marks, such as a planned absence entered ahead, are
ignored): the school year from 1 September, the last 4 weeks (28 days) and the last 3 months
(calendar months, the day clamped to the month's end). A *school week* is a Monday-to-Sunday
week in which the pupil had at least one possible session; unauthorised sessions are counted
over the last 10 of them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

from pydantic import computed_field

from hv_connector.attendance.codes import Meaning
from hv_connector.models.common import Frozen

PERSISTENT_ABSENCE = 10.0
"""Absence over the school year at or above this percentage is persistent absence (DfE)."""
SEVERE_ABSENCE = 50.0
"""Absence over the school year at or above this percentage is severe absence (DfE)."""
SCHOOL_WEEKS = 10
"""Unauthorised sessions are counted over this many school weeks (the national penalty-notice threshold's period)."""
SCHOOL_YEAR_STARTS = (9, 1)
"""Month and day the English school year starts."""


class Rate(Frozen):
    """Sessions over one window, and the absence and attendance they make."""

    possible: int = 0
    authorised: int = 0
    unauthorised: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def absence(self) -> float | None:
        """Absent sessions as a percentage of possible ones, to one decimal place (``None``: none possible)."""
        return _percent(self.authorised + self.unauthorised, self.possible)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def attendance(self) -> float | None:
        """Sessions attended (present or approved educational activity) as a percentage of possible ones."""
        return _percent(self.possible - self.authorised - self.unauthorised, self.possible)

    def at_least(self, percent: float) -> bool:
        """Absence is at or above ``percent`` (compared exactly, not after rounding)."""
        return self.possible > 0 and 100 * (self.authorised + self.unauthorised) >= percent * self.possible


class AttendanceFigures(Frozen):
    """One pupil's attendance as of a day, from their session marks."""

    as_of: date
    year_from: date
    """1 September of the school year ``as_of`` is in."""
    year: Rate
    last_4_weeks: Rate
    last_3_months: Rate
    persistent_absence: bool
    """Absence over the school year so far is 10 % or more."""
    severe_absence: bool
    """Absence over the school year so far is 50 % or more."""
    unauthorised_10_weeks: int
    """Unauthorised absent sessions in the last 10 school weeks."""
    school_weeks: int
    """School weeks that count covers (fewer than 10 early in the pupil's record)."""
    unknown_marks: int = 0
    """Marks this school year whose code has no meaning we can read (left out of every figure)."""


def school_year_start(day: date) -> date:
    """1 September of the school year ``day`` falls in."""
    month, first = SCHOOL_YEAR_STARTS
    return date(day.year if (day.month, day.day) >= (month, first) else day.year - 1, month, first)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to that month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def earliest_needed(as_of: date) -> date:
    """The first day any figure as of ``as_of`` reads: marks before it can be dropped."""
    return min(school_year_start(as_of), months_before(as_of, 3) + timedelta(days=1),
               as_of - timedelta(weeks=SCHOOL_WEEKS * 2))


_KIND: dict[str, int] = {Meaning.PRESENT: 0, Meaning.EDUCATIONAL: 0, Meaning.AUTHORISED: 1, Meaning.UNAUTHORISED: 2,
         Meaning.NOT_POSSIBLE: 3, Meaning.UNKNOWN: 4}
"""Meaning → 0 attended, 1 authorised, 2 unauthorised, 3 not possible, 4 unreadable (plain ints: this loop runs
for every mark of every pupil)."""


def attendance_figures(marks: Iterable[tuple[date, str]], as_of: date) -> AttendanceFigures:
    """The figures as of ``as_of`` from one pupil's marks, each ``(day, meaning)`` (one mark a session).

    :param marks: in any order; a meaning is a :class:`~hv_connector.attendance.codes.Meaning` value.
    """
    today = as_of.toordinal()
    year_from, (year_start, months_start, weeks_start) = _windows(as_of)
    # Per window: possible, authorised, unauthorised (three named lists, not a loop over windows: this runs
    # for every mark of every pupil).
    year_counts, months_counts, weeks_counts = [0, 0, 0], [0, 0, 0], [0, 0, 0]
    weeks: dict[int, int] = {}  # school week → unauthorised sessions in it
    unknown = 0
    for day, meaning in marks:
        ordinal = day.toordinal()
        if ordinal > today:
            continue
        kind = _KIND.get(meaning, 4)
        if kind >= 3:
            unknown += kind == 4 and ordinal >= year_start
            continue
        week = (ordinal - 1) // 7  # day 1 (1 January of year 1) was a Monday
        weeks[week] = weeks.get(week, 0) + (kind == 2)
        for start, window in ((year_start, year_counts), (months_start, months_counts), (weeks_start, weeks_counts)):
            if ordinal >= start:
                window[0] += 1
                if kind:
                    window[kind] += 1
    # Every value is a count or a day made here, of its field's type: built without validating them again
    # (a refresh builds these for every pupil of a school).
    year, months, four_weeks = (Rate.from_checked({"possible": p, "authorised": a, "unauthorised": u})
                                for p, a, u in (year_counts, months_counts, weeks_counts))
    recent = sorted(weeks)[-SCHOOL_WEEKS:]
    return AttendanceFigures.from_checked({
        "as_of": as_of, "year_from": year_from, "year": year, "last_4_weeks": four_weeks, "last_3_months": months,
        "persistent_absence": year.at_least(PERSISTENT_ABSENCE), "severe_absence": year.at_least(SEVERE_ABSENCE),
        "unauthorised_10_weeks": sum(weeks[w] for w in recent), "school_weeks": len(recent),
        "unknown_marks": int(unknown),
    })


@cache
def _windows(as_of: date) -> tuple[date, tuple[int, int, int]]:
    """The school year's first day, and the first day (ordinal) of each window: the year, 3 months, 4 weeks
    (the same for every pupil of a run)."""
    year_from = school_year_start(as_of)
    return year_from, (year_from.toordinal(), months_before(as_of, 3).toordinal() + 1, as_of.toordinal() - 27)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
