"""What in Hexthorpe's attendance proposes a visit ("The reasons for a home visit", "Procedures")."""

from __future__ import annotations

from hv_connector.models import AttendanceTrigger, Measure, Urgency, concern_and_refusal
from hvc_hexthorpe.policy import COORDINATOR_ROLES, SAFEGUARDING_ROLES, clause

DECIDERS = (*COORDINATOR_ROLES, *SAFEGUARDING_ROLES, "dsl")
"""Visits are planned through the PFLO, who directs the daily attendance visits ("Procedures"), with the DSL and SLT."""

TRIGGERS: tuple[AttendanceTrigger, ...] = (
    AttendanceTrigger(
        id="hexthorpe.no-reason-given", title="Absent and no reason for the absence has been given",
        clause=clause("The reasons for a home visit; Procedures (attendance visits may be daily)"),
        measure=Measure.DAYS_ABSENT_UNEXPLAINED, threshold=1, option="no_reason_days", reason="unexplained-absence",
        urgency=Urgency.URGENT, deciders=DECIDERS),
    *concern_and_refusal("hexthorpe", clause("The reasons for a home visit"), concern_reason="attendance",
                         refusal_reason="attendance", deciders=DECIDERS),
)
