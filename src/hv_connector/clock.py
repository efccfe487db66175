"""Time as the school sees it: Europe/London, with a clock tests can control."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
"""Every school in the product is in England; wall-clock rules use this zone."""


class Clock(Protocol):
    """Something that says what time it is now (timezone-aware)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in Europe/London."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc).astimezone(LONDON)


class FixedClock:
    """A clock that moves only when told: for tests, drills and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start time")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta`` (absolute time, so DST-safe)."""
        self._now = (self._now.astimezone(timezone.utc) + delta).astimezone(LONDON)

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self._now = moment


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (arithmetic on it is absolute time)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in hv-connector is timezone-aware")
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """``moment`` on the London wall clock."""
    return moment.astimezone(LONDON)


def local_time(moment: datetime) -> time:
    """The London wall-clock time of day of ``moment``."""
    return local(moment).time()


def school_today(clock: Clock) -> date:
    """The school day it is now by ``clock``: today on the London wall clock, whatever zone the clock answers in.

    Between midnight and 01:00 in British Summer Time the UTC date is still yesterday's; this is not.
    """
    return local(clock.now()).date()


def at_london(day: date, wall: time) -> datetime:
    """The aware datetime for a London wall-clock time on ``day``."""
    return datetime.combine(day, wall, tzinfo=LONDON)


class ShiftedClock:
    """Real time, shifted so that it read ``start`` when the clock was made.

    For the demo and drills: every process given the same ``start`` and made at
    about the same moment agrees on the time, and the time still moves.
    """

    def __init__(self, start: datetime, *, made_at: datetime | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs a timezone-aware start time")
        self._offset = start - (made_at or datetime.now(timezone.utc))

    def now(self) -> datetime:
        return (datetime.now(timezone.utc) + self._offset).astimezone(LONDON)


CLOCK_START_VARIABLE = "HVC_CLOCK_START"
"""Names ``START@EPOCH``: the London time the clock showed at Unix time EPOCH. Demos and drills only."""


def clock_from_environment(environ: dict[str, str]) -> Clock:
    """The system clock, or a :class:`ShiftedClock` when ``HVC_CLOCK_START`` is set.

    The value is ``2026-11-23T10:30@1790000000``: the moment the shifted clock
    showed at a Unix time, so a demo's servers, watch and dashboard share one
    clock however long each took to start.
    """
    value = environ.get(CLOCK_START_VARIABLE)
    if not value:
        return SystemClock()
    from hv_connector.errors import ConfigError

    try:
        start_text, _, epoch_text = value.partition("@")
        start = datetime.fromisoformat(start_text)
        start = start if start.tzinfo else start.replace(tzinfo=LONDON)
        made_at = datetime.fromtimestamp(float(epoch_text), timezone.utc) if epoch_text else None
    except ValueError:
        raise ConfigError(
            f"{CLOCK_START_VARIABLE}={value!r} is not START@EPOCH (e.g. 2026-11-23T10:30@1790000000): "
            "fix it or unset it to use the real time"
        ) from None
    return ShiftedClock(start, made_at=made_at)
