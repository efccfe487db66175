"""What the visit service hands back: a stored visit, its history, its decisions, and an action's result.

Also the readers that build them from ``visits``, ``visit_events``, ``overrides`` and ``acknowledgements`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Connection, RowMapping, select

from hv_connector.models import Finding, Severity, Stage, Visit
from hv_connector.store.schema import visit_events
from hv_connector.visits.lifecycle import State


@dataclass(frozen=True)
class VisitRecord:
    """A visit as stored: its state and lock version, and the visit (code word attached, never shown)."""

    id: str
    school: str
    state: State
    version: int
    visit: Visit
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VisitEvent:
    """One row of a visit's history: who did what, from which state to which, and the findings then."""

    id: int
    at: datetime
    actor: str
    event: str
    from_state: State | None
    to_state: State | None
    stage: Stage | None
    findings: list[Finding]
    note: str | None
    judged: bool = True
    """Whether the policy was asked with this event (the watch marking a visit overdue does not ask it)."""


def last_judged(events: Sequence[VisitEvent]) -> list[Finding]:
    """The findings stored with the latest of ``events`` the policy judged (none when it judged none)."""
    return next((event.findings for event in reversed(events) if event.judged), [])


@dataclass(frozen=True)
class Decision:
    """An override or acknowledgement of one rule on one visit."""

    rule_id: str
    by: str
    at: datetime
    text: str
    """The override's reason, or the acknowledgement's note."""


@dataclass(frozen=True)
class Standing:
    """Where a visit stands against its policy before staff leave: findings, overrides, acknowledgements."""

    findings: list[Finding]
    overrides: list[Decision]
    acknowledgements: list[Decision]

    def blocks(self, upto: Stage = Stage.SIGN_OUT) -> list[Finding]:
        """Blocks at stages up to ``upto`` that no authoriser has overridden."""
        done = {o.rule_id for o in self.overrides}
        return [f for f in self.findings if f.severity is Severity.BLOCK and f.stage.order <= upto.order
                and f.rule_id not in done]

    def unacknowledged(self) -> list[Finding]:
        """Warnings up to sign-out that no authoriser has acknowledged."""
        done = {a.rule_id for a in self.acknowledgements}
        return [f for f in self.findings if f.severity is Severity.WARN and f.stage.order <= Stage.SIGN_OUT.order
                and f.rule_id not in done]


@dataclass(frozen=True)
class ActionResult:
    """What an action did: the visit after it, the findings stored with it, and its event."""

    record: VisitRecord
    findings: list[Finding]
    event: str


def record_from_row(row: RowMapping) -> VisitRecord:
    """The visit in a ``visits`` row, its code word attached from its own column (never from ``data``)."""
    data = dict(row["data"])
    if row["code_word"] is not None and data.get("risk_assessment") is not None:
        data["risk_assessment"] = {**data["risk_assessment"], "code_word": SecretStr(row["code_word"])}
    return VisitRecord(
        id=row["id"], school=row["school_id"], state=State(row["state"]), version=row["version"],
        visit=Visit.model_validate(data), created_at=row["created_at"], updated_at=row["updated_at"],
    )


def read_events(conn: Connection, visit_id: str) -> list[VisitEvent]:
    """The visit's history, oldest first."""
    rows = conn.execute(select(visit_events).where(visit_events.c.visit_id == visit_id)
                        .order_by(visit_events.c.id)).mappings()
    return [
        VisitEvent(
            id=row["id"], at=row["at"], actor=row["actor"], event=row["event"],
            from_state=State(row["from_state"]) if row["from_state"] else None,
            to_state=State(row["to_state"]) if row["to_state"] else None,
            stage=Stage(row["stage"]) if row["stage"] else None,
            findings=[Finding.model_validate(f) for f in row["findings"] or []], note=row["note"],
            judged=row["findings"] is not None,
        )
        for row in rows
    ]


def read_decisions(conn: Connection, table: Any, visit_id: str, text_column: str) -> list[Decision]:
    """The visit's overrides or acknowledgements (``table``), oldest first, with their reason or note."""
    rows = conn.execute(select(table).where(table.c.visit_id == visit_id).order_by(table.c.id)).mappings()
    return [Decision(row["rule_id"], row["by"], row["at"], row[text_column] or "") for row in rows]

