"""What in Birchwood's attendance proposes a visit ("Reasons for home visits")."""

from __future__ import annotations

from hv_connector.models import AttendanceTrigger, concern_and_refusal
from hvc_birchwood.policy import AUTHORISER_ROLES, SCHOOL, clause

TRIGGERS: tuple[AttendanceTrigger, ...] = concern_and_refusal(
    SCHOOL, clause("Reasons for home visits"), concern_reason="attendance", refusal_reason="refusing-school",
    deciders=(*AUTHORISER_ROLES, "attendance-officer"))
