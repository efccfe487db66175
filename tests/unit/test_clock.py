"""The clocks: London wall time, a controllable clock, and the demo's shifted clock."""

from datetime import date, datetime, timedelta, timezone

import pytest

from hv_connector.clock import LONDON, FixedClock, ShiftedClock, SystemClock, clock_from_environment, school_today
from hv_connector.errors import ConfigError


def test_fixed_clock_moves_in_absolute_time_across_the_october_change():
    clock = FixedClock(datetime(2026, 10, 25, 0, 30, tzinfo=LONDON))  # BST
    clock.advance(timedelta(hours=2))
    assert clock.now().isoformat() == "2026-10-25T01:30:00+00:00"  # two real hours later, now GMT


def test_shifted_clock_starts_where_told_and_keeps_moving():
    made = datetime(2030, 1, 1, tzinfo=timezone.utc)
    clock = ShiftedClock(datetime(2026, 11, 23, 10, 30, tzinfo=LONDON), made_at=made)
    elapsed = datetime.now(timezone.utc) - made
    expected = datetime(2026, 11, 23, 10, 30, tzinfo=LONDON).astimezone(timezone.utc) + elapsed
    assert abs(clock.now() - expected) < timedelta(seconds=5)


def test_environment_selects_the_clock():
    assert isinstance(clock_from_environment({}), SystemClock)
    epoch = datetime.now(timezone.utc).timestamp()
    shifted = clock_from_environment({"HVC_CLOCK_START": f"2026-11-23T10:30@{epoch}"})
    assert shifted.now().strftime("%Y-%m-%d %H:%M") == "2026-11-23 10:30"


def test_a_malformed_clock_start_names_the_variable_and_the_fix():
    with pytest.raises(ConfigError, match="HVC_CLOCK_START=.*START@EPOCH"):
        clock_from_environment({"HVC_CLOCK_START": "tuesday"})


def test_the_school_day_is_the_london_date_not_the_utc_one():
    late = FixedClock(datetime(2026, 6, 15, 23, 30, tzinfo=timezone.utc))  # 00:30 BST on Tuesday the 16th
    assert school_today(late) == date(2026, 6, 16)
    assert school_today(FixedClock(datetime(2026, 12, 15, 23, 30, tzinfo=timezone.utc))) == date(2026, 12, 15)  # GMT
