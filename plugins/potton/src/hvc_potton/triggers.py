"""What in Potton's attendance proposes a visit, or a referral to the local authority (§3, §7)."""

from __future__ import annotations

from hv_connector.models import AttendanceTrigger, Measure, Proposes, Urgency
from hvc_potton.policy import AUTHORISER_ROLES, LEGAL_THRESHOLD, clause

DECIDERS = (*AUTHORISER_ROLES, "dsl", "attendance-officer")
"""The headteacher authorises every visit (§3); the DSL and the attendance officer work the list with them (§7)."""

TRIGGERS: tuple[AttendanceTrigger, ...] = (
    AttendanceTrigger(
        id="potton.unexplained-absence", title="Unexplained or unauthorised absence, not resolved by other contact",
        clause=clause("3. Home visits"), measure=Measure.DAYS_ABSENT_UNEXPLAINED, threshold=2,
        option="unexplained_days", reason="unexplained-absence", urgency=Urgency.URGENT, deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.persistently-low-risk", title="Attendance at risk of becoming persistently low (last 4 weeks)",
        clause=clause("3. Home visits"), measure=Measure.ABSENCE_4_WEEKS, threshold=10,
        option="at_risk_absence_percent", reason="persistent-absence", deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.agreement-not-kept", title="Agreement made at an attendance visit not kept: follow-up visit",
        clause=clause("7. Attendance officer visits"), measure=Measure.UNAUTHORISED_SINCE_AGREEMENT, threshold=2,
        option="agreement_sessions", reason="persistent-absence", urgency=Urgency.SOON, deciders=DECIDERS),
    AttendanceTrigger(
        id="potton.below-70", title="Attendance below 70% over three months: notify the local authority",
        clause=clause("7. Attendance officer visits"), measure=Measure.ATTENDANCE_3_MONTHS, threshold=LEGAL_THRESHOLD,
        below=True, option="legal_threshold_percent", proposes=Proposes.NOTIFY_LOCAL_AUTHORITY, urgency=Urgency.SOON,
        deciders=AUTHORISER_ROLES),
)
