"""What St Edwards' policy document says, as data: identity, reasons, the §3/§6 risk assessment.

The policy is the Trust's Home Visits Policy as adopted by the school (not dated,
no review date). The rules (``rules.py``) and the hook answers (``__init__.py``)
read from here, so each fact of the document is written down once.
"""

from __future__ import annotations

from hv_connector.models import HazardTemplate, PolicyInfo, Reason, RiskTemplate

SCHOOL = "st-edwards"

POLICY = PolicyInfo(school_id=SCHOOL, school_name="St Edwards Catholic Primary School",
                    policy_name="Home Visits Policy", source_document="st-edwards.txt",
                    policy_date=None, review_by=None, phase="primary")
"""St Edwards' policy: not dated, and the review date is left blank."""


def clause(section: str) -> str:
    """How a St Edwards rule cites its section."""
    return f"St Edwards policy — {section}"


TOPICS: tuple[tuple[str, str], ...] = (
    ("behaviour", "the pupil's known behaviour"),
    ("environment", "the environment of the visit and its known or likely risks"),
    ("home-circumstances", "the home circumstances"),
    ("travel", "the travel route and the means of travel"),
    ("time-of-day", "the time of day and how long the visit will take"),
    ("mobile-coverage", "how staff can reach school (mobile coverage, other means)"),
)
"""The six things §6 says every risk assessment covers: (``covers`` code, in words)."""

ALTERNATIVES: tuple[tuple[str, str], ...] = (
    ("video-call", "a Teams call"),
    ("meeting-elsewhere", "a face-to-face meeting somewhere both sides agree"),
    ("public-premises", "public-sector premises (e.g. a local authority interview room)"),
    ("private-premises", "private-sector premises"),
)
"""§4's hierarchy of alternatives to a home visit, in the order they are considered."""

MANAGER_ROLES = frozenset({"line-manager", "slt", "headteacher", "dsl", "deputy-dsl"})
"""Who may agree the purpose of a visit as the member of staff's manager (§1)."""
SIGN_OFF_ROLES = ("headteacher", "dsl")
"""The headteacher, and the designated person (the DSL) the policy names beside them."""

SCHOOL_HOURS = ("08:45", "15:15")
"""The school day on the London wall clock; override with the ``school_day`` option."""

DEFAULT_INTERVAL_MINUTES = 30
"""The buddy-contact interval the plan falls back to when the risk assessment agrees none
(``st-edwards.regular-contact`` blocks such a visit anyway)."""

REASONS = (
    Reason(code="new-starter", label="Nursery or reception home visit for a new starter", tags=("meeting",)),
    Reason(code="attendance", label="Attendance issues", tags=("attendance",)),
    Reason(code="pastoral", label="Pastoral care of the pupil and family", tags=("welfare",)),
    Reason(code="urgent-welfare", label="An urgent concern for the pupil's safety or welfare",
           tags=("safeguarding", "welfare")),
    Reason(code="parent-meeting", label="Parents who cannot come into school need to be seen", tags=("meeting",)),
)
"""The policy names few reasons (§2 Aims: new starters, attendance; §1: pastoral care, urgent
situations); these are derived from them."""

HAZARDS = (
    HazardTemplate(hazard="Violence or threatening behaviour, from people expected at the home or arriving",
                   potential_harm="Injury or distress",
                   controls=("Sit near the exit in a room with a clear way out",
                             "End the meeting and call the police if anyone turns violent or aggressive",
                             "Carry no cash or valuable equipment")),
    HazardTemplate(hazard="Remote or secluded area, after dark or outside normal hours",
                   potential_harm="No help at hand",
                   controls=("Hold the meeting in school hours wherever possible",
                             "A second member of staff in the meeting, or nearby",
                             "Check mobile signal and battery before going in")),
    HazardTemplate(hazard="Unexpected surroundings or people", potential_harm="Unplanned risk",
                   controls=("Leave at once if a risk appears, and seek help",)),
    HazardTemplate(hazard="The visitor's own competence, ability or medical condition",
                   potential_harm="Harm to the visitor",
                   controls=("Only work you are trained and competent for",
                             "Tell the headteacher of any relevant medical condition")),
    HazardTemplate(hazard="An allegation against the visitor (hostility, child-protection concerns, complaints)",
                   potential_harm="Harm to the pupil or to the visitor",
                   controls=("Keep visual access or an open door in one-to-one situations",
                             "Make detailed records, with arrival and departure times")),
)
"""The kinds of risk §3 lists, with controls from §1 and §4."""

RISK_TEMPLATE = RiskTemplate(hazards=HAZARDS, topics=tuple(words for _, words in TOPICS), requires_code_word=True,
                             sign_off_roles=SIGN_OFF_ROLES)
"""§6's six topics, §3's kinds of risk, a password for calls for help, signed off by the head or delegate."""
