"""The one way a pupil's attendance becomes the percentage staff read (briefing, request form, visit)."""

from __future__ import annotations

from hv_connector.read.queries import attendance_percentage


def test_attendance_is_a_percentage_to_one_decimal_place() -> None:
    assert attendance_percentage(2, 3) == 66.7
    assert attendance_percentage(120, 120) == 100.0


def test_no_sessions_possible_is_no_figure_not_zero() -> None:
    assert attendance_percentage(0, 0) is None
    assert attendance_percentage(0, None) is None
