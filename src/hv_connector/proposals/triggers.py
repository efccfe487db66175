"""A school's attendance triggers at the thresholds its configuration sets."""

from __future__ import annotations

from hv_connector.attendance.triggers import with_thresholds
from hv_connector.models import AttendanceTrigger
from hv_connector.runtime import Runtime


def school_triggers(rt: Runtime, school_id: str) -> list[AttendanceTrigger]:
    """``school_id``'s triggers (its plugin's, then the core's) with its ``[schools.ID.triggers]`` thresholds."""
    return with_thresholds(rt.policies.triggers(school_id), rt.school(school_id).triggers)
