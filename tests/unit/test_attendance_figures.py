"""Attendance the DfE way: what each code counts as, and the figures a pupil's marks make."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hv_connector.attendance.codes import Meaning, meaning_of
from hv_connector.attendance.figures import (
    attendance_figures,
    earliest_needed,
    months_before,
    school_year_start,
)

AS_OF = date(2026, 11, 23)  # a Monday


def marks(*pairs: tuple[date, str], times: int = 1) -> list[tuple[date, str]]:
    return [pair for pair in pairs for _ in range(times)]


# --- codes --------------------------------------------------------------------------------------------


def test_national_codes_have_their_dfe_meaning() -> None:
    assert [meaning_of(c) for c in ("/", "\\", "L")] == [Meaning.PRESENT] * 3
    assert {meaning_of(c) for c in "BKPVW"} == {Meaning.EDUCATIONAL}
    assert {meaning_of(c) for c in ("C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T")} == {Meaning.AUTHORISED}
    assert {meaning_of(c) for c in "GNOU"} == {Meaning.UNAUTHORISED}
    assert {meaning_of(c) for c in ("D", "Q", "X", "Y1", "Y7", "Z")} == {Meaning.NOT_POSSIBLE}


def test_a_national_code_keeps_its_meaning_whatever_the_mis_says() -> None:
    assert meaning_of("n ", "Present") is Meaning.UNAUTHORISED


def test_a_school_code_takes_the_meaning_the_mis_gives_it() -> None:
    assert meaning_of("#", "ATTENDANCE_NOT_REQUIRED") is Meaning.NOT_POSSIBLE
    assert meaning_of("H", "Unauthorised absence") is Meaning.UNAUTHORISED
    assert meaning_of("H", "authorised_absence") is Meaning.AUTHORISED
    assert meaning_of("A", "Approved educational activity") is Meaning.EDUCATIONAL


def test_a_code_nobody_explains_is_unknown_not_present() -> None:
    assert meaning_of("-", None) is Meaning.UNKNOWN
    assert meaning_of("?", "something new") is Meaning.UNKNOWN


# --- windows ------------------------------------------------------------------------------------------


def test_the_school_year_starts_on_1_september() -> None:
    assert school_year_start(date(2026, 9, 1)) == date(2026, 9, 1)
    assert school_year_start(date(2026, 8, 31)) == date(2025, 9, 1)
    assert school_year_start(date(2027, 3, 4)) == date(2026, 9, 1)


def test_three_months_back_clamps_to_the_end_of_a_short_month() -> None:
    assert months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 3) == date(2025, 10, 15)


# --- figures --------------------------------------------------------------------------------------------


def test_absence_counts_authorised_and_unauthorised_over_possible_sessions() -> None:
    day = date(2026, 11, 16)
    figures = attendance_figures(marks((day, "present"), times=6) + marks((day, "educational"), times=2)
                                 + [(day, "authorised"), (day, "unauthorised")] + marks((day, "not-possible"), times=5),
                                 AS_OF)
    assert figures.year.possible == 10
    assert figures.year.absence == 20.0 and figures.year.attendance == 80.0
    assert figures.persistent_absence and not figures.severe_absence


def test_windows_reach_back_4_weeks_3_months_and_to_1_september() -> None:
    figures = attendance_figures([(date(2026, 11, 23), "unauthorised"), (date(2026, 10, 27), "unauthorised"),
                                  (date(2026, 10, 26), "unauthorised"), (date(2026, 8, 24), "authorised"),
                                  (date(2026, 8, 23), "authorised"), (date(2026, 9, 1), "present")], AS_OF)
    assert figures.last_4_weeks.possible == 2  # 27 October to 23 November: 28 days
    assert figures.last_3_months.possible == 5  # from 24 August: the summer's last week counts
    assert figures.year.possible == 4  # from 1 September
    assert figures.year_from == date(2026, 9, 1)


def test_half_absent_is_severe_absence() -> None:
    day = date(2026, 10, 1)
    figures = attendance_figures([(day, "present"), (day, "authorised")], AS_OF)
    assert figures.persistent_absence and figures.severe_absence


def test_unauthorised_sessions_count_over_the_last_10_school_weeks_skipping_holidays() -> None:
    mondays = [AS_OF - timedelta(weeks=n) for n in range(14)]
    half_term = {AS_OF - timedelta(weeks=4)}  # no possible session that week
    pupil = [(monday, "unauthorised") for monday in mondays if monday not in half_term]
    pupil += [(monday, "not-possible") for monday in half_term]
    figures = attendance_figures(pupil, AS_OF)
    assert figures.school_weeks == 10
    assert figures.unauthorised_10_weeks == 10  # 11 calendar weeks back, the half term skipped


def test_no_marks_is_no_figure_not_a_perfect_record() -> None:
    figures = attendance_figures([], AS_OF)
    assert figures.year.attendance is None and figures.last_3_months.absence is None
    assert not figures.persistent_absence and figures.school_weeks == 0


def test_unreadable_codes_are_left_out_and_counted() -> None:
    figures = attendance_figures([(AS_OF, "unknown"), (AS_OF, "present")], AS_OF)
    assert figures.year.possible == 1 and figures.unknown_marks == 1


# --- properties -----------------------------------------------------------------------------------------

MEANINGS = st.sampled_from([m.value for m in Meaning])
DAYS = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 1, 31))
MARKS = st.lists(st.tuples(DAYS, MEANINGS), max_size=300)
AS_OF_DAYS = st.dates(min_value=date(2025, 9, 1), max_value=date(2026, 12, 31))


def _reference(pupil: list[tuple[date, str]], as_of: date, since: date) -> tuple[int, int, int]:
    """Possible, authorised, unauthorised in ``[since, as_of]``, the slow obvious way."""
    window = [m for d, m in pupil if since <= d <= as_of]
    absent = [m for m in window if m in ("authorised", "unauthorised")]
    possible = absent + [m for m in window if m in ("present", "educational")]
    return len(possible), absent.count("authorised"), absent.count("unauthorised")


@given(MARKS, AS_OF_DAYS)
def test_every_window_matches_counting_by_hand(pupil: list[tuple[date, str]], as_of: date) -> None:
    figures = attendance_figures(pupil, as_of)
    for rate, since in ((figures.year, school_year_start(as_of)),
                        (figures.last_3_months, months_before(as_of, 3) + timedelta(days=1)),
                        (figures.last_4_weeks, as_of - timedelta(days=27))):
        assert (rate.possible, rate.authorised, rate.unauthorised) == _reference(pupil, as_of, since)
        assert since >= earliest_needed(as_of)


@given(MARKS, AS_OF_DAYS)
def test_rates_are_percentages_that_add_up(pupil: list[tuple[date, str]], as_of: date) -> None:
    figures = attendance_figures(pupil, as_of)
    for rate in (figures.year, figures.last_3_months, figures.last_4_weeks):
        if rate.possible:
            assert rate.absence is not None and rate.attendance is not None
            assert 0 <= rate.absence <= 100 and abs(rate.absence + rate.attendance - 100) < 0.11
    assert figures.last_4_weeks.possible <= figures.last_3_months.possible
    assert figures.severe_absence <= figures.persistent_absence
    assert figures.persistent_absence == (figures.year.possible > 0
                                          and 10 * (figures.year.authorised + figures.year.unauthorised)
                                          >= figures.year.possible)


@given(MARKS, AS_OF_DAYS, st.randoms(use_true_random=False))
def test_order_of_marks_does_not_matter(pupil: list[tuple[date, str]], as_of: date, rng: object) -> None:
    shuffled = list(pupil)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert attendance_figures(shuffled, as_of) == attendance_figures(pupil, as_of)


@given(MARKS, AS_OF_DAYS, st.lists(DAYS, max_size=20))
def test_sessions_that_are_not_possible_and_later_marks_change_nothing(
    pupil: list[tuple[date, str]], as_of: date, extra: list[date]
) -> None:
    noise = [(d, "not-possible") for d in extra] + [(as_of + timedelta(days=1 + n), "unauthorised") for n in range(3)]
    assert attendance_figures(pupil + noise, as_of) == attendance_figures(pupil, as_of)


@given(MARKS, AS_OF_DAYS)
def test_unauthorised_in_10_school_weeks_is_bounded_by_what_was_marked(
    pupil: list[tuple[date, str]], as_of: date
) -> None:
    figures = attendance_figures(pupil, as_of)
    marked = sum(1 for d, m in pupil if m == "unauthorised" and d <= as_of)
    assert 0 <= figures.unauthorised_10_weeks <= marked
    assert figures.school_weeks <= 10
