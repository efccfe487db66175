"""The one way hv-connector writes times, durations and people for a person to read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hv_connector import humanize

WINTER = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 on the London wall clock (BST)


def test_a_moment_reads_with_its_day_and_on_the_london_clock() -> None:
    assert humanize.moment(WINTER) == "Mon 23 Nov 2026 10:00"
    assert humanize.moment(SUMMER) == "Wed 01 Jul 2026 10:00"
    assert humanize.moment(WINTER, seconds=True) == "Mon 23 Nov 2026 10:00:05"
    assert humanize.moment(SUMMER, year=False) == "Wed 01 Jul 10:00"  # a narrow column: the same words, no year


def test_a_missing_time_says_so() -> None:
    assert humanize.moment(None) == "—"
    assert humanize.moment(None, missing="not recorded") == "not recorded"
    assert humanize.time_of_day(None) == humanize.day(None) == "—"


def test_times_and_days_alone() -> None:
    assert humanize.time_of_day(SUMMER) == "10:00"
    assert humanize.time_of_day(SUMMER, zone=True) == "10:00 BST"
    assert humanize.day(date(2015, 3, 9)) == "09 Mar 2015"
    assert humanize.day(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "01 Jul 2026"  # already July in London


@pytest.mark.parametrize(("length", "words"), [
    (4.25, "4.2 s"), (42, "42 s"), (timedelta(minutes=12, seconds=40), "12 min"),
    (timedelta(hours=1, minutes=5), "1 h 5 min"), (timedelta(hours=2), "2 h"),
])
def test_a_duration_reads_to_the_precision_a_person_wants(length: timedelta | float, words: str) -> None:
    assert humanize.duration(length) == words


def test_a_person_is_named_and_someone_who_left_keeps_their_id() -> None:
    names = {"pt-head": "Jo Watts-Test"}
    assert humanize.person("pt-head", names) == "Jo Watts-Test"
    assert humanize.person(humanize.WATCH, names) == "the watch"
    assert humanize.person("gone-1", names) == "gone-1"
    assert humanize.person(None, names) == "—"


def test_a_flag_reads_yes_or_no_and_an_unknown_one_says_so() -> None:
    assert [humanize.yes_no(v) for v in (True, False, None)] == ["yes", "no", "not recorded"]
