"""Which attendance triggers a pupil meets, from their marks: the thresholds, the runs of absent days, agreements."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hv_connector.attendance.codes import Meaning
from hv_connector.attendance.triggers import met, met_triggers, pupil_measures, threshold_problems, with_thresholds
from hv_connector.builtin.core_rules import CORE_TRIGGERS
from hv_connector.models import AttendanceTrigger, Measure

AS_OF = date(2026, 11, 20)  # a Friday
P, A, U = Meaning.PRESENT.value, Meaning.AUTHORISED.value, Meaning.UNAUTHORISED.value
TRIGGERS = {t.id: t for t in CORE_TRIGGERS}


def weekdays_back(count: int, last: date = AS_OF) -> list[date]:
    days, day = [], last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def register(meanings: list[str], last: date = AS_OF) -> list[tuple[date, str]]:
    """One meaning per school day, oldest first, ending on ``last``: an AM and a PM mark each."""
    return [(day, meaning) for day, meaning in zip(weekdays_back(len(meanings), last), meanings, strict=True)
            for _ in range(2)]


def ids(marks: list[tuple[date, str]], agreement_on: date | None = None) -> set[str]:
    return {t.id for t in met_triggers(CORE_TRIGGERS, pupil_measures(marks, AS_OF, agreement_on))}


days = st.lists(st.sampled_from([P, P, P, A, U]), min_size=1, max_size=60)


@given(days)
def test_persistent_absence_is_met_exactly_when_the_year_s_absence_reaches_ten_percent(meanings: list[str]) -> None:
    absent = sum(m != P for m in meanings)
    assert ("core.persistent-absence" in ids(register(meanings))) == (absent * 10 >= len(meanings))


@given(days)
def test_severe_absence_is_always_persistent_absence_too(meanings: list[str]) -> None:
    found = ids(register(meanings))
    assert "core.severe-absence" not in found or "core.persistent-absence" in found


@given(days)
def test_the_unexplained_run_counts_the_latest_days_wholly_unauthorised(meanings: list[str]) -> None:
    run = next((n for n, m in enumerate(reversed(meanings)) if m != U), len(meanings))
    measures = pupil_measures(register(meanings), AS_OF)
    assert measures.values[Measure.DAYS_ABSENT_UNEXPLAINED] == min(run, 20)  # 4 weeks of school days at most
    assert ("core.missing-education" in ids(register(meanings))) == (min(run, 20) >= 3)


@given(days, st.floats(min_value=0, max_value=100, allow_nan=False))
def test_raising_a_threshold_never_makes_an_absence_trigger_met(meanings: list[str], threshold: float) -> None:
    measures = pupil_measures(register(meanings), AS_OF)
    trigger = TRIGGERS["core.persistent-absence"]
    if met(trigger.with_threshold(threshold + 1), measures):
        assert met(trigger.with_threshold(threshold), measures)


@given(days)
def test_a_below_trigger_is_met_exactly_when_attendance_is_under_the_line(meanings: list[str]) -> None:
    below_70 = AttendanceTrigger(id="x.below-70", title="Below 70", clause="test", measure=Measure.ATTENDANCE_3_MONTHS,
                                 threshold=70, below=True)
    measures = pupil_measures(register(meanings), AS_OF)
    attended = sum(m == P for m in meanings[-60:])
    assert met(below_70, measures) == (attended * 100 < 70 * len(meanings[-60:]))


def test_a_pupil_with_no_sessions_meets_nothing() -> None:
    assert ids([]) == set()
    assert ids([(AS_OF, Meaning.NOT_POSSIBLE.value)] * 4) == set()


def test_ten_unauthorised_sessions_in_ten_school_weeks_is_met_at_the_tenth() -> None:
    assert "core.unauthorised-sessions" not in ids(register([U] * 4 + [P] * 40))  # 8 sessions
    assert "core.unauthorised-sessions" in ids(register([U] * 5 + [P] * 40))


def test_an_absence_with_a_reason_breaks_the_unexplained_run_but_not_the_absent_one() -> None:
    measures = pupil_measures(register([P, U, A, U, U]), AS_OF)
    assert measures.values[Measure.DAYS_ABSENT_UNEXPLAINED] == 2
    assert measures.values[Measure.DAYS_ABSENT] == 4


def test_unauthorised_sessions_count_only_after_the_agreement_and_only_when_there_was_one() -> None:
    marks = register([U, U, P, P, U])
    assert pupil_measures(marks, AS_OF).values[Measure.UNAUTHORISED_SINCE_AGREEMENT] is None
    agreed = weekdays_back(3)[0]  # the day of the first present day
    assert pupil_measures(marks, AS_OF, agreed).values[Measure.UNAUTHORISED_SINCE_AGREEMENT] == 2


def test_the_sparkline_weeks_end_with_this_week() -> None:
    weeks = pupil_measures(register([P] * 5 + [U] * 5), AS_OF).weeks
    assert weeks[-2:] == (100.0, 0.0) and len(weeks) == 10 and weeks[0] is None


def test_a_school_s_threshold_option_changes_its_trigger_and_a_bad_one_is_named() -> None:
    changed = {t.id: t.threshold for t in with_thresholds(CORE_TRIGGERS, {"missing_days": 2})}
    assert changed["core.missing-education"] == 2 and changed["core.persistent-absence"] == 10
    problems = dict(threshold_problems(CORE_TRIGGERS, {"missing_day": 2, "persistent_absence_percent": "ten"}))
    assert "missing_days" in problems["missing_day"]
    assert "number" in problems["persistent_absence_percent"]


def test_every_school_s_triggers_are_its_own_and_the_core_s_each_citing_where_it_comes_from() -> None:
    from hv_connector.plugins import Policies, build_plugin_manager

    policies = Policies(build_plugin_manager())
    for school in policies.schools():
        triggers = policies.triggers(school)
        assert {t.id for t in CORE_TRIGGERS} <= {t.id for t in triggers}
        own = [t for t in triggers if not t.id.startswith("core.")]
        assert all(t.id.startswith(f"{school}.") and "policy —" in t.clause for t in own), school
        reasons = {r.code for r in policies.reasons(school)}
        assert all(t.reason in reasons for t in own if t.reason), school


def test_potton_proposes_notifying_the_local_authority_below_70_percent_not_a_visit() -> None:
    from hv_connector.models import Proposes
    from hv_connector.plugins import Policies, build_plugin_manager

    below = {t.id: t for t in Policies(build_plugin_manager()).triggers("potton")}["potton.below-70"]
    assert below.proposes is Proposes.NOTIFY_LOCAL_AUTHORITY and below.below and below.threshold == 70
    assert below.deciders == ("headteacher",)
