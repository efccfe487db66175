"""Findings: what a policy says about a visit, as data."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hv_connector.models.common import Frozen, Severity, Stage

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$")]
"""A rule's id: the policy's namespace, a dot, then the rule's own name (``potton.code-word``)."""


class RuleFacts(Frozen):
    """What a rule is, as a policy declares it and as each of its findings repeats it."""

    rule_id: RuleId
    stage: Stage
    severity: Severity


class Finding(RuleFacts):
    """One rule's verdict on one visit at one stage."""

    message: str = Field(min_length=1)
    """Plain words that tell staff what to do."""
    clause: str = Field(min_length=1)
    """The policy section the rule comes from, e.g. "Potton §4 Personal safety"."""
    fields: tuple[str, ...] = ()
    """The visit fields the finding concerns (dotted paths)."""


class RuleInfo(RuleFacts):
    """A rule as a policy declares it (``hvc policy show``)."""

    summary: str = Field(min_length=1)
    clause: str = Field(min_length=1)
    fields: tuple[str, ...] = ()


def counts(findings: list[Finding]) -> dict[Severity, int]:
    """How many findings there are of each severity."""
    tally = {s: 0 for s in Severity}
    for finding in findings:
        tally[finding.severity] += 1
    return tally
