"""Pydantic models at the edges of hv-connector: visits, staff, findings and policy answers."""

from hv_connector.models.common import ROLES, STAGE_ORDER, Frozen, Severity, Stage
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
    "ROLES", "STAGE_ORDER", "Alternative", "CheckIn", "CheckInPlan", "CheckInStep", "EscalationStep",
    "ExternalReferral", "FamilyKnowledge", "Finding", "FollowUp", "Frozen", "Hazard", "HazardTemplate",
    "PersonPresent", "PolicyContext", "PolicyInfo", "PupilRef", "Reason", "ReportKind", "RiskAssessment",
    "RiskTemplate", "RuleInfo", "Severity", "StaffMember", "Stage", "Vehicle", "Visit", "VisitOutcome",
    "counts",
]
