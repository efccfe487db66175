"""Attendance figures read from the store's session marks (:mod:`hv_connector.attendance.figures`).

A pupil with no marks stored has no figures (``None``): the school has not shared its register, or
the MIS adapter cannot read one. That is "not available", never a clean record; whoever shows or
checks attendance must say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection, select

from hv_connector.attendance.figures import AttendanceFigures, Rate, attendance_figures, earliest_needed
from hv_connector.store.schema import pupil_session_marks as marks


def pupil_figures(conn: Connection, school_id: str, mis_id: str, as_of: date) -> AttendanceFigures | None:
    """One pupil's figures as of ``as_of``, or ``None`` when the store holds no marks for them."""
    rows = conn.execute(select(marks.c.day, marks.c.meaning).where(
        marks.c.school_id == school_id, marks.c.pupil_mis_id == mis_id,
        marks.c.day >= earliest_needed(as_of), marks.c.day <= as_of)).all()
    return attendance_figures(rows, as_of) if rows else None


def school_marks(conn: Connection, school_id: str, as_of: date) -> Iterator[tuple[str, list[tuple[date, str]]]]:
    """Every pupil's marks that a figure as of ``as_of`` reads, a pupil at a time: ``(mis_id, [(day, meaning)])``."""
    rows = conn.execute(select(marks.c.pupil_mis_id, marks.c.day, marks.c.meaning)
                        .where(marks.c.school_id == school_id, marks.c.day >= earliest_needed(as_of),
                               marks.c.day <= as_of)
                        .order_by(marks.c.pupil_mis_id))
    for mis_id, group in groupby(rows, key=itemgetter(0)):
        yield mis_id, [(day, meaning) for _, day, meaning in group]


def school_figures(conn: Connection, school_id: str, as_of: date) -> dict[str, AttendanceFigures]:
    """Every pupil's figures as of ``as_of`` who has marks, by MIS id (for lists and triggers)."""
    return {mis_id: attendance_figures(pupil, as_of) for mis_id, pupil in school_marks(conn, school_id, as_of)}


def attendance_3m(conn: Connection, school_id: str, mis_id: str, as_of: date) -> float | None:
    """Attendance over the last 3 months as a percentage, or ``None`` when it is not available."""
    figures = pupil_figures(conn, school_id, mis_id, as_of)
    return figures.last_3_months.attendance if figures else None


UNAUTHORISED_ALERT = 10
"""Unauthorised sessions in 10 school weeks at which the national framework expects the school to consider a
penalty notice: the briefing shows the count as a warning from here."""
NOT_AVAILABLE = ("Register: not available from the MIS (no session marks synced), so attendance cannot be "
                 "checked here: ask the attendance officer")


def figure_lines(figures: AttendanceFigures | None) -> list[tuple[str, bool]]:
    """The figures as lines of text for the CLI and the dashboard, each with whether it is a warning."""
    if figures is None:
        return [(NOT_AVAILABLE, True)]
    flag = ("SEVERE ABSENCE (50% or more)" if figures.severe_absence
            else "PERSISTENT ABSENCE (10% or more)" if figures.persistent_absence else "")
    year = f"School year since {figures.year_from.day} {figures.year_from:%B}: {_rate(figures.year)}"
    lines = [(f"{year} — {flag}" if flag else year, bool(flag)),
             (f"Last 4 weeks: {_rate(figures.last_4_weeks)}", False),
             (f"Last 3 months: {_rate(figures.last_3_months)}", False),
             (f"Unauthorised absence: {figures.unauthorised_10_weeks} sessions in the last {figures.school_weeks} "
              "school weeks", figures.unauthorised_10_weeks >= UNAUTHORISED_ALERT)]
    if figures.unknown_marks:
        lines.append((f"{figures.unknown_marks} marks this year have codes that could not be read and are left out",
                      True))
    return lines


def _rate(rate: Rate) -> str:
    if rate.attendance is None:
        return "no possible sessions"
    return (f"{rate.attendance}% attendance ({rate.authorised} authorised and {rate.unauthorised} unauthorised "
            f"absent sessions of {rate.possible})")
