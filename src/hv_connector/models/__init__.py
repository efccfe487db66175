"""Pydantic models at the edges of hv-connector: visits, staff, findings and policy answers."""

from hv_connector.models.common import (
    FIRST_YEAR,
    LAST_YEAR,
    ROLES,
    STAGE_ORDER,
    Frozen,
    Moment,
    Severity,
    Stage,
    check_plausible,
)
from hv_connector.models.findings import Finding, RuleInfo, counts
from hv_connector.models.policy import (
    CheckInPlan,
    CheckInStep,
    EscalationStep,
    FollowUp,
    HazardTemplate,
    PolicyContext,
    PolicyInfo,
    Reason,
    ReportKind,
    RiskTemplate,
)
from hv_connector.models.proposals import DECIDERS, AttendanceTrigger, Measure, Proposes, Urgency, concern_and_refusal
from hv_connector.models.staff import StaffMember
from hv_connector.models.visit import (
    Alternative,
    CheckIn,
    ExternalReferral,
    FamilyKnowledge,
    Hazard,
    PersonPresent,
    PupilRef,
    RiskAssessment,
    Vehicle,
    Visit,
    VisitOutcome,
)

__all__ = [
    "DECIDERS", "AttendanceTrigger", "Measure", "Proposes", "Urgency", "concern_and_refusal",
    "FIRST_YEAR", "LAST_YEAR", "ROLES", "STAGE_ORDER", "Alternative", "CheckIn", "CheckInPlan", "CheckInStep", "EscalationStep",
    "ExternalReferral", "FamilyKnowledge", "Finding", "FollowUp", "Frozen", "Hazard", "HazardTemplate",
    "Moment", "PersonPresent", "PolicyContext", "PolicyInfo", "PupilRef", "Reason", "ReportKind", "RiskAssessment",
    "RiskTemplate", "RuleInfo", "Severity", "StaffMember", "Stage", "Vehicle", "Visit", "VisitOutcome",
    "check_plausible", "counts",
]
