"""The proposals worklist as the CLI and the dashboard show it: most urgent first, with the figures behind each.

A school with no evaluation yet, or whose attendance was not available at its last one, is listed in
:func:`school_lines` with why, so an empty list never passes for "nobody needs a visit".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from hv_connector.humanize import moment
from hv_connector.models import AttendanceTrigger, Frozen
from hv_connector.store.schema import proposal_runs, proposals, pupils

FIGURE_LABELS = {
    "absence-year": "absence this year {}%", "absence-4-weeks": "absence last 4 weeks {}%",
    "attendance-3-months": "attendance last 3 months {}%", "unauthorised-10-weeks": "{:g} unauthorised sessions in 10 weeks",
    "unauthorised-4-weeks": "{:g} unauthorised sessions in 4 weeks", "days-absent-unexplained": "{:g} days absent unexplained",
    "days-absent": "{:g} days absent running", "unauthorised-since-agreement": "{:g} unauthorised sessions since the agreement",
}
SPARKS = " ▁▂▃▄▅▆▇█"


class ProposalRow(Frozen):
    """One proposal as a person reads it."""

    id: str
    school_id: str
    pupil_mis_id: str
    pupil_name: str
    trigger: AttendanceTrigger
    figures: dict[str, Any]
    first_met_at: datetime
    status: str
    recent_visit: dict[str, str] | None = None
    decided_by: str | None = None
    note: str | None = None
    visit_id: str | None = None
    closed_reason: str | None = None

    @property
    def measure_value(self) -> float | None:
        value = self.figures.get("measures", {}).get(self.trigger.measure.value)
        return float(value) if value is not None else None

    def figure_line(self) -> str:
        """The trigger's own figure against its threshold, then the others."""
        measures: dict[str, Any] = self.figures.get("measures", {})
        own = self.trigger.measure.value
        shown = [FIGURE_LABELS[own].format(measures[own]) + f" ({'below' if self.trigger.below else 'at least'} "
                 f"{self.trigger.threshold:g})"] if own in measures else []
        shown += [FIGURE_LABELS[m].format(v) for m, v in measures.items() if m != own and m in FIGURE_LABELS and v]
        return "; ".join(shown)

    def sparkline(self) -> str:
        """Attendance by week, oldest first: one block per week, blank where there was no session."""
        return "".join(" " if w is None else SPARKS[max(1, round(w / 100 * (len(SPARKS) - 1)))]
                       for w in self.figures.get("weeks", []))

    def visited_line(self) -> str:
        """Says the pupil has a recent (or coming) visit, so nobody proposes one blindly; empty when none."""
        if not self.recent_visit:
            return ""
        when = moment(datetime.fromisoformat(self.recent_visit["planned_start"]))
        return f"visit {self.recent_visit['id']} ({self.recent_visit['state']}) planned {when}"


class SchoolLine(Frozen):
    """How a school's last evaluation went."""

    school_id: str
    evaluated_at: datetime | None
    pupils: int
    unavailable: str | None

    def problem(self) -> str | None:
        """Why the school has no proposals to show, if it is not that nobody meets a trigger."""
        if self.evaluated_at is None:
            return "attendance not evaluated yet: run `hvc sync` (or `hvc propose refresh`)"
        return self.unavailable


def list_proposals(conn: Connection, schools: Sequence[str], *, status: str = "open") -> list[ProposalRow]:
    """The proposals of ``schools`` in ``status``: most urgent first, pupils with a recent visit after the rest of
    their urgency, then the longest waiting, then by pupil and trigger (the same order every time)."""
    query = _with_pupils().where(proposals.c.school_id.in_(list(schools)), proposals.c.status == status)
    triggers: dict[str, AttendanceTrigger] = {}
    rows = [_row(row, triggers) for row in conn.execute(query).mappings()]
    # A JSON null is not SQL NULL on every backend, so the recently visited are put after the rest here.
    return sorted(rows, key=lambda r: (r.trigger.urgency.rank, r.recent_visit is not None, r.first_met_at,
                                       r.pupil_name, r.trigger.id))


def get_proposal(conn: Connection, proposal_id: str) -> ProposalRow | None:
    """The proposal with ``proposal_id``, whatever its status, or ``None``."""
    row = conn.execute(_with_pupils().where(proposals.c.id == proposal_id)).mappings().first()
    return _row(row, {}) if row else None


def _with_pupils() -> Select[Any]:
    return (select(proposals, pupils.c.display_name, pupils.c.forename, pupils.c.surname)
            .join(pupils, (pupils.c.school_id == proposals.c.school_id) & (pupils.c.mis_id == proposals.c.pupil_mis_id),
                  isouter=True))


def _row(row: Any, triggers: dict[str, AttendanceTrigger]) -> ProposalRow:
    """The proposal as read; ``triggers`` holds each distinct trigger already read (thousands of rows share a few)."""
    key = repr(row["trigger"])
    trigger = triggers.get(key) or triggers.setdefault(key, AttendanceTrigger.model_validate(row["trigger"]))
    name = row["display_name"] or " ".join(p for p in (row["forename"], row["surname"]) if p) or row["pupil_mis_id"]
    # Built without validating again: the store's own rows, written from validated models (thousands on a screen).
    return ProposalRow.model_construct(
        id=row["id"], school_id=row["school_id"], pupil_mis_id=row["pupil_mis_id"], pupil_name=name,
        trigger=trigger, figures=row["figures"] or {},
        first_met_at=row["first_met_at"], status=row["status"], recent_visit=row["recent_visit"],
        decided_by=row["decided_by"], note=row["note"], visit_id=row["visit_id"], closed_reason=row["closed_reason"])


def school_lines(conn: Connection, schools: Sequence[str]) -> list[SchoolLine]:
    """Each school's last evaluation (or none yet), in the order given."""
    runs = {row.school_id: row for row in conn.execute(select(proposal_runs).where(
        proposal_runs.c.school_id.in_(list(schools))))}
    return [SchoolLine(school_id=s, evaluated_at=runs[s].evaluated_at if s in runs else None,
                       pupils=runs[s].pupils if s in runs else 0, unavailable=runs[s].unavailable if s in runs else None)
            for s in schools]
