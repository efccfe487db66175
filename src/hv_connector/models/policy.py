"""What a school's policy answers besides findings: its identity, reasons,
templates, check-in plan, escalation chain, CPOMS categories and follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from hv_connector.clock import local
from hv_connector.models.common import Frozen

ReportKind = Literal["home-visit", "concern", "attendance", "cancelled"]


class PolicyInfo(Frozen):
    """Which school a policy plugin serves, and the document it encodes."""

    school_id: str = Field(pattern=r"^[a-z0-9-]+$")
    """The school id, also the prefix of every rule id the plugin emits."""
    school_name: str
    policy_name: str = "Home Visit Policy"
    source_document: str
    """The policy text the rules come from (file name or URL)."""
    policy_date: str | None = None
    """As the document states it (e.g. "October 2025"); None when undated."""
    review_by: date | None = None
    """The last day the policy is in date; None when the document gives no review date."""
    phase: Literal["primary", "secondary", "all-through", "special", "other"] = "other"


class Reason(Frozen):
    """A reason the policy accepts for a home visit."""

    code: str = Field(pattern=r"^[a-z0-9-]+$")
    label: str
    tags: tuple[Literal["welfare", "attendance", "safeguarding", "tuition", "work", "meeting", "exclusion", "illness"], ...] = ()
    """What kind of visit this is, so shared rules (see the child, attendance follow-up) apply."""


class HazardTemplate(Frozen):
    """One hazard row the school's risk-assessment template asks about."""

    hazard: str
    persons_at_risk: str = "Member of staff"
    potential_harm: str = ""
    controls: tuple[str, ...] = ()
    default_rating: Literal["L", "M", "H"] | None = None


class RiskTemplate(Frozen):
    """The school's risk-assessment template."""

    hazards: tuple[HazardTemplate, ...] = ()
    topics: tuple[str, ...] = ()
    """Topics the assessment must cover (e.g. St Edwards' six)."""
    requires_code_word: bool = False
    sign_off_roles: tuple[str, ...] = ()


Anchor = Literal["sign-out", "planned-start", "expected-return", "interval", "returned"]


class CheckInStep(Frozen):
    """One expected contact while staff are out."""

    kind: Literal["office-call", "staff-call", "left-home", "home-safe", "interval"]
    who: tuple[str, ...]
    """Roles that make or take the contact (``office``, ``visiting-staff``, ``line-manager`` …)."""
    anchor: Anchor
    offset_minutes: int = 0
    """Minutes after the anchor the contact is due (for ``interval``, the interval itself)."""
    description: str
    reminder_minutes: int = 5
    """Remind this many minutes before it falls due."""


class CheckInPlan(Frozen):
    """The contacts a school expects while a visit is out."""

    steps: tuple[CheckInStep, ...] = ()
    grace_minutes: int = 10
    """Minutes past the expected return before the visit counts as overdue."""


class EscalationStep(Frozen):
    """One step of the chain when staff are overdue or call for help."""

    who: tuple[str, ...]
    """Roles that act at this step."""
    action: str
    """What they do, in plain words."""
    wait_minutes: int = Field(default=15, ge=0)
    """How long this step has before the next one fires."""
    emergency: bool = False
    """The step a code word jumps to (e.g. call the police)."""


class FollowUp(Frozen):
    """Something to do after a visit."""

    text: str
    who: tuple[str, ...] = ()
    due_days: int | None = None


class PolicyContext(Frozen):
    """What a rule may know besides the visit: the moment, the policy and the school's options."""

    now: AwareDatetime
    policy: PolicyInfo | None = None
    reasons: tuple[Reason, ...] = ()
    options: dict[str, Any] = Field(default_factory=dict)
    """School-specific settings (e.g. ``evening_from``, ``school_day``) from the configuration."""

    def reason(self, code: str) -> Reason | None:
        """The reason with ``code``, if the school accepts it."""
        return next((r for r in self.reasons if r.code == code), None)

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)


def is_past(review_by: date | None, now: datetime) -> bool:
    """Whether a review date has passed on ``now``'s date in London (a UTC date lags it by an hour in summer)."""
    return review_by is not None and local(now).date() > review_by
