"""Findings as people read them: grouped by stage, each with who overrode or acknowledged it, and when.

``hvc visit show``, the CLI's action replies, ``hvc policy check`` and the
dashboard's visit screen all lay findings out from :func:`findings_by_stage`,
so the words for a decision are the same wherever a lead reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hv_connector import humanize
from hv_connector.models import Finding, Stage

NO_FINDINGS = "No findings: the policy is satisfied at the stages checked."
"""What a visit with no findings shows."""


class Decided(Protocol):
    """An override or acknowledgement of one rule (a :class:`~hv_connector.visits.records.Decision`)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def by(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class FindingLine:
    """One finding, and what was decided on it (``None``: nothing yet)."""

    finding: Finding
    decision: str | None = None
    """``overridden by Jo Smith at Mon 23 Nov 2026 09:00: reason`` or ``acknowledged by …``."""


@dataclass(frozen=True)
class StageFindings:
    """The findings of one stage, in the order the policy gave them."""

    stage: Stage
    lines: tuple[FindingLine, ...]


def findings_by_stage(findings: Sequence[Finding], *, overrides: Sequence[Decided] = (),
                      acknowledgements: Sequence[Decided] = (),
                      names: Mapping[str, str] | None = None) -> list[StageFindings]:
    """The stages that have findings, in lifecycle order, each finding with its decision in words.

    :param overrides: blocks an authoriser overrode (they win over an acknowledgement of the same rule).
    :param acknowledgements: warnings an authoriser acknowledged.
    :param names: staff id → name, to say who decided.
    """
    decided = {d.rule_id: ("acknowledged", d) for d in acknowledgements}
    decided.update({d.rule_id: ("overridden", d) for d in overrides})
    grouped = []
    for stage in Stage:
        lines = tuple(FindingLine(f, _decision(*decided[f.rule_id], names or {}) if f.rule_id in decided else None)
                      for f in findings if f.stage is stage)
        if lines:
            grouped.append(StageFindings(stage, lines))
    return grouped


def _decision(verb: str, decision: Decided, names: Mapping[str, str]) -> str:
    said = f": {decision.text}" if decision.text else ""
    return f"{verb} by {humanize.person(decision.by, names)} at {humanize.moment(decision.at)}{said}"

