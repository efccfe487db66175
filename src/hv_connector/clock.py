"""Time as the school sees it: Europe/London, with a clock tests can control."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
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


def local(moment: datetime) -> datetime:
    """``moment`` on the London wall clock."""
    return moment.astimezone(LONDON)


def local_time(moment: datetime) -> time:
    """The London wall-clock time of day of ``moment``."""
    return local(moment).time()


def at_london(day: date, wall: time) -> datetime:
    """The aware datetime for a London wall-clock time on ``day``."""
    return datetime.combine(day, wall, tzinfo=LONDON)
