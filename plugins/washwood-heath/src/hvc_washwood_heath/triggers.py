"""What in Washwood Heath's attendance proposes a visit ("Reasons for a home visit")."""

from __future__ import annotations

from hv_connector.models import AttendanceTrigger, concern_and_refusal
from hvc_washwood_heath.policy import SCHOOL, clause

TRIGGERS: tuple[AttendanceTrigger, ...] = concern_and_refusal(
    SCHOOL, clause("Reasons for a home visit"), concern_reason="attendance", refusal_reason="attendance")
