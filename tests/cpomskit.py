"""Finished visits for the CPOMS tests, trials and the push benchmark.

Visits are about the fake CPOMS's own fictional pupils (the same seed's UPNs
and MIS ids) and visited by its own staff (their e-mails), so CPOMS matches
them; :class:`OutboxPolicy` is a real (tiny) policy plugin naming categories
the fake has. Any number of our school ids can point at one demo school: each
has its own token, so its own rate-limit bucket in the fake.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hv_connector import hookimpl
from hv_connector.cli import main
from hv_connector.clock import LONDON
from hv_connector.models import FollowUp, PolicyInfo, Reason, ReportKind, Visit
from hv_connector.outbox.queue import enqueue_visit_report
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.store import Store
from hv_connector.testing import base_visit
from hvc_fixtures.data import Dataset

START = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)
"""When the kit's visits started (a Friday morning)."""


class OutboxPolicy:
    """A small real policy plugin: reasons, CPOMS category names per kind, one follow-up."""

    def __init__(self, school_id: str = "oak") -> None:
        self.school_id = school_id

    @hookimpl
    def policy_info(self) -> PolicyInfo:
        return PolicyInfo(school_id=self.school_id, school_name=self.school_id.title(), source_document="kit.txt")

    @hookimpl
    def visit_reasons(self) -> list[Reason]:
        return [Reason(code="attendance", label="Attendance below 90%", tags=("attendance",)),
                Reason(code="welfare", label="Welfare check", tags=("welfare",))]

    @hookimpl
    def cpoms_categories(self, visit: Visit, kind: ReportKind) -> list[str]:
        return {"concern": ["Child Protection", "Home Visit"]}.get(kind, ["Home Visit"])

    @hookimpl
    def follow_ups(self, visit: Visit) -> list[FollowUp]:
        return [FollowUp(text="Phone the family in a week.", who=("pflo",), due_days=7)]


class AnswersAtOnce:
    """A report sink that takes every record at once, without HTTP: what a push costs on its own (the bench),
    and the base of the tests' sinks that count or script what they receive."""

    async def __aenter__(self) -> AnswersAtOnce:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def find(self, report: VisitReport) -> Delivery | None:
        return None

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        return Delivery(report.record_id)


def kit_policies(*school_ids: str) -> Policies:
    """Policies with one :class:`OutboxPolicy` per school id (default: ``oak``)."""
    pm = build_plugin_manager(load_entrypoints=False)
    for school_id in school_ids or ("oak",):
        pm.register(OutboxPolicy(school_id), name=school_id)
    return Policies(pm)


def demo_visit(dataset: Dataset | None, slug: str, index: int, *, visit_id: str, school: str | None = None,
               **outcome: Any) -> Visit:
    """A finished visit to pupil ``index`` of demo school ``slug`` by two of its staff, child seen.

    ``dataset=None`` makes the pupil and staff up (for tests without a fake CPOMS).
    """
    data = base_visit(school or slug, reason="attendance", start=START, id=visit_id)
    if dataset is not None:
        pupil = dataset.pupil(slug, index)
        data["pupil"] = {"name": f"{pupil.forename} {pupil.surname}", "upn": pupil.upn, "mis_id": pupil.mis_id}
        visitors = [s for s in dataset.staff_directory(slug) if s.get("email")][:2]
        data["staff"] = visitors
    data["outcome"] = {
        "arrived_at": (START + timedelta(minutes=7)).isoformat(),
        "departed_at": (START + timedelta(minutes=52)).isoformat(),
        "child_seen": True, "child_seen_alone": False, "child_spoken_to": True,
        "child_words": "I don't like the bus in the morning.",
        "persons_present": [{"name": "Mary Example", "relationship": "mother"}],
        "discussion": "Morning routine and the bus.",
        "agreements": ["Mum walks to school with the child for two weeks."],
        "action_points": ["Check attendance on Friday."],
        "follow_up_on": "2026-12-04",
        **outcome,
    }
    return Visit.model_validate(data)


def hvc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``hvc ARGS`` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def queue(store: Store, policies: Policies, visits: list[Visit], now: datetime,
          kind: ReportKind = "home-visit") -> list[int]:
    """Finish ``visits`` into the outbox, one transaction each (as the lifecycle does)."""
    ids: list[int] = []
    for visit in visits:
        with store.begin() as conn:
            ids += enqueue_visit_report(conn, policies, visit, kind, now=now, actor="kit")
    return ids


def write_config(path: Path, database_url: str, api: str, tokens: dict[str, str],
                 per_second: float | None = None) -> Path:
    """An hvc.toml for ``hvc push``: the store and each school's CPOMS connection (token per school)."""
    lines = ["[database]", f'url = "{database_url}"', ""]
    for school_id, token in tokens.items():
        lines += [f"[schools.{school_id}]", f'name = "{school_id.title()}"', f'policy = "{school_id}"', "",
                  f"[schools.{school_id}.sink]", 'name = "cpoms-api"', f'base_url = "{api}"', f'token = "{token}"']
        if per_second:
            lines.append(f"requests_per_second = {per_second}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)
    return path
