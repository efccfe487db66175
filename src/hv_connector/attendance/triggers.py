"""Which attendance triggers a pupil meets, from their session marks: pure, one pass over the marks.

:func:`pupil_measures` reads every :class:`~hv_connector.models.proposals.Measure` of one pupil (with the
DfE figures of :mod:`.figures`) and their attendance week by week, for the worklist's sparkline;
:func:`met` says whether a trigger's measure reaches its threshold. :func:`with_thresholds` applies a
school's ``[schools.ID.triggers]`` options, and :func:`threshold_problems` says what is wrong with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hv_connector.attendance.codes import Meaning
from hv_connector.attendance.figures import AttendanceFigures, attendance_figures
from hv_connector.models.proposals import AttendanceTrigger, Measure

SPARK_WEEKS = 10
"""Weeks of attendance the worklist's sparkline shows."""

RECENT_DAYS = 28
"""Days read for the runs of absent days and the last 4 weeks' unauthorised sessions (a longer run reads as 4 weeks)."""
_ABSENT: dict[str, int] = {Meaning.AUTHORISED: 1, Meaning.UNAUTHORISED: 2}


@dataclass(frozen=True)
class PupilMeasures:
    """One pupil's measures as of a day: each measure's value and the possible sessions behind it."""

    figures: AttendanceFigures
    values: Mapping[Measure, float | None]
    possible: Mapping[Measure, int]
    weeks: tuple[float | None, ...]
    """Attendance (%) in each of the last :data:`SPARK_WEEKS` calendar weeks, oldest first (``None``: no session)."""

    def as_record(self) -> dict[str, object]:
        """The figures a proposal keeps, JSON-able: every measure read, and the weeks."""
        return {"measures": {m.value: v for m, v in self.values.items() if v is not None},
                "weeks": list(self.weeks)}


def pupil_measures(marks: Sequence[tuple[date, str]], as_of: date, agreement_on: date | None = None) -> PupilMeasures:
    """Every measure of one pupil as of ``as_of`` from their marks, each ``(day, meaning)``, in any order.

    :param agreement_on: the day of the pupil's last reported visit that recorded agreements, if any.
    """
    figures = attendance_figures(marks, as_of)
    today = as_of.toordinal()
    this_week = (today - 1) // 7
    days: dict[int, list[int]] = {}  # day → [possible, absent, unauthorised]
    weeks: dict[int, list[int]] = {}  # week → [possible, attended]
    since = agreement_on.toordinal() if agreement_on else None
    after_agreement = 0
    unauthorised_4_weeks = 0
    for day, meaning in marks:
        ordinal = day.toordinal()
        if ordinal > today or meaning not in _COUNTED:
            continue
        absent = _ABSENT.get(meaning, 0)
        if ordinal > today - RECENT_DAYS:
            cell = days.setdefault(ordinal, [0, 0, 0])
            cell[0] += 1
            cell[1] += absent > 0
            cell[2] += absent == 2
            unauthorised_4_weeks += absent == 2
        week = (ordinal - 1) // 7
        if this_week - week < SPARK_WEEKS:
            counts = weeks.setdefault(week, [0, 0])
            counts[0] += 1
            counts[1] += absent == 0
        if since is not None and ordinal > since and absent == 2:
            after_agreement += 1
    run_any, run_unexplained = _runs(days)
    values: dict[Measure, float | None] = {
        Measure.ABSENCE_YEAR: figures.year.absence,
        Measure.ABSENCE_4_WEEKS: figures.last_4_weeks.absence,
        Measure.ATTENDANCE_3_MONTHS: figures.last_3_months.attendance,
        Measure.UNAUTHORISED_10_WEEKS: float(figures.unauthorised_10_weeks),
        Measure.UNAUTHORISED_4_WEEKS: float(unauthorised_4_weeks),
        Measure.DAYS_ABSENT_UNEXPLAINED: float(run_unexplained),
        Measure.DAYS_ABSENT: float(run_any),
        Measure.UNAUTHORISED_SINCE_AGREEMENT: float(after_agreement) if since is not None else None,
    }
    possible = {Measure.ABSENCE_YEAR: figures.year.possible, Measure.ABSENCE_4_WEEKS: figures.last_4_weeks.possible,
                Measure.ATTENDANCE_3_MONTHS: figures.last_3_months.possible}
    spark = tuple(_percent(*weeks[w]) if w in weeks else None for w in range(this_week - SPARK_WEEKS + 1, this_week + 1))
    return PupilMeasures(figures, values, possible, spark)


_COUNTED = frozenset({Meaning.PRESENT, Meaning.EDUCATIONAL, Meaning.AUTHORISED, Meaning.UNAUTHORISED})
"""Meanings of possible sessions; the rest are in no figure (see :mod:`.figures`)."""


def _runs(days: Mapping[int, list[int]]) -> tuple[int, int]:
    """School days in a row, latest first, wholly absent (any reason) and wholly absent unauthorised."""
    run_any = run_unexplained = 0
    unexplained_open = True
    for ordinal in sorted(days, reverse=True):
        possible, absent, unauthorised = days[ordinal]
        if absent < possible:
            break
        run_any += 1
        if unexplained_open and unauthorised == possible:
            run_unexplained += 1
        else:
            unexplained_open = False
    return run_any, run_unexplained


def _percent(possible: int, attended: int) -> float:
    return round(100 * attended / possible, 1)


def met(trigger: AttendanceTrigger, measures: PupilMeasures) -> bool:
    """Whether ``measures`` meet ``trigger``: its measure is read, its window holds enough sessions, and the value
    reaches the threshold (below it, for a ``below`` trigger)."""
    value = measures.values.get(trigger.measure)
    if value is None or measures.possible.get(trigger.measure, trigger.min_possible) < trigger.min_possible:
        return False
    return value < trigger.threshold if trigger.below else value >= trigger.threshold


def met_triggers(triggers: Iterable[AttendanceTrigger], measures: PupilMeasures) -> list[AttendanceTrigger]:
    """The triggers ``measures`` meet, in the order given."""
    return [trigger for trigger in triggers if met(trigger, measures)]


def with_thresholds(triggers: Sequence[AttendanceTrigger], options: Mapping[str, object]) -> list[AttendanceTrigger]:
    """``triggers`` with the thresholds a school sets under ``[schools.ID.triggers]`` (unreadable values ignored:
    :func:`threshold_problems` reports them)."""
    return [trigger.with_threshold(value) if (value := _threshold(options.get(trigger.option or ""))) is not None
            else trigger for trigger in triggers]


def threshold_problems(triggers: Sequence[AttendanceTrigger], options: Mapping[str, object]) -> list[tuple[str, str]]:
    """``(option, what to do)`` for each option that names no trigger's threshold or is not a number ≥ 0."""
    known = {t.option: t for t in triggers if t.option}
    problems = []
    for name, value in options.items():
        if name not in known:
            problems.append((name, f"no trigger of this school reads it; the thresholds it can set are: "
                                   f"{', '.join(sorted(known)) or 'none'}"))
        elif _threshold(value) is None:
            problems.append((name, f"must be a number of at least 0 for {known[name].title!r} "
                                   f"(default {known[name].threshold:g}), not {value!r}"))
    return problems


def _threshold(value: object) -> float | None:
    """``value`` as a threshold: a number of at least 0 (not a bool, which TOML would allow), else ``None``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None
