"""Times, durations and people as a person reads them: the one place hv-connector formats them.

The CLI, the dashboard, the CPOMS report and the service's messages all call
these, so a time reads the same wherever it is shown:

- :func:`moment` — ``Mon 23 Nov 2026 10:00``: the one way to write a date and a time, in a table or
  inside a sentence (``already authorised by Jo Smith at Mon 23 Nov 2026 10:00``); where a table's column is
  too narrow for it, the same words with the year dropped (``Mon 23 Nov 10:00``, ``year=False``);
- :func:`time_of_day` — ``10:00`` (or ``10:00 GMT``): where the day goes without saying (the live board,
  an escalation's message);
- :func:`day` — ``23 Nov 2026``: a date alone (a birthday, a follow-up, a date in the MIS);
- :func:`duration` — ``1 h 5 min``, ``12 min``, ``4.2 s``;
- :func:`person` — ``Jo Smith`` for a staff id;
- :func:`yes_no` — ``yes`` or ``no`` for a flag (``not recorded`` when nobody said).

Every time is shown on the London wall clock (:func:`~hv_connector.clock.local`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from hv_connector.clock import local

NOTHING = "—"
"""What stands for a time (or a person) that is not recorded."""

WATCH = "system:watch"
"""The actor the watch acts as when the clock moves a visit on."""

PUSH = "hvc push"
"""The actor the pusher acts as when CPOMS answers."""

SYNC = "hvc sync"
"""The actor the MIS sync acts as when it changes a pupil's alerts."""

SYSTEM_ACTORS = {WATCH: "the watch", PUSH: "the CPOMS push", SYNC: "the MIS sync"}
"""Actors that are not people, as a sentence names them."""


def moment(value: datetime | None, *, seconds: bool = False, year: bool = True, missing: str = NOTHING) -> str:
    """``value`` on the London wall clock, ``Mon 23 Nov 2026 10:00`` (with ``:05`` seconds when asked; without
    the year, ``Mon 23 Nov 10:00``, only where a narrow table column needs the room)."""
    if value is None:
        return missing
    return local(value).strftime(f"%a %d %b {'%Y ' if year else ''}%H:%M{':%S' if seconds else ''}")


def time_of_day(value: datetime | None, *, zone: bool = False, missing: str = NOTHING) -> str:
    """``10:00`` on the London wall clock, where the day goes without saying (``10:00 GMT`` with ``zone``)."""
    if value is None:
        return missing
    wall = local(value)  # formatted by hand: strftime costs more than the rest of an escalation's text
    return f"{wall.hour:02d}:{wall.minute:02d} {wall.tzname() or ''}" if zone else f"{wall.hour:02d}:{wall.minute:02d}"


def day(value: date | datetime | None, *, missing: str = NOTHING) -> str:
    """``23 Nov 2026``: a date alone (a datetime is taken on the London wall clock)."""
    if value is None:
        return missing
    return f"{local(value) if isinstance(value, datetime) else value:%d %b %Y}"


def duration(value: timedelta | float | None, *, missing: str = NOTHING) -> str:
    """A length of time, to the precision a person wants: ``4.2 s``, ``42 s``, ``12 min``, ``1 h 5 min``.

    :param value: a timedelta, or seconds.
    """
    if value is None:
        return missing
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def person(staff_id: str | None, names: Mapping[str, str], *, missing: str = NOTHING) -> str:
    """``Jo Smith`` for a staff id, ``the watch`` for the watch, or the id itself when the person has left.

    :param names: staff id → name, from the school's directory.
    """
    if not staff_id:
        return missing
    return SYSTEM_ACTORS.get(staff_id) or names.get(staff_id) or staff_id


def yes_no(value: bool | None, *, missing: str = "not recorded") -> str:
    """``yes`` or ``no`` for a flag a person reads (never ``True``/``False``); ``missing`` when it is unknown."""
    if value is None:
        return missing
    return "yes" if value else "no"
