"""Fictional schools for the visit tests: two staff directories, three pupils, a clean Potton request.

The clock starts at 08:00 on Monday 23 November 2026 (London); visits are
planned for 10:00–11:00.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hv_connector.clock import at_london
from hv_connector.store import Store
from hv_connector.store.schema import pupil_session_marks, pupils
from hv_connector.testing import staff, staff_directory
from hv_connector.visits.directory import Directory
from tests.markkit import mark_rows

NOW = at_london(date(2026, 11, 23), time(8, 0))
START = at_london(date(2026, 11, 23), time(10, 0))
CLOCK = f"{NOW.isoformat()}@"
"""HVC_CLOCK_START for a CLI run: the shifted clock reads 08:00 on 23 Nov when the run starts."""

STAFF = {
    "potton": [
        staff("pt-head", "Jo Watts-Test", "headteacher", "slt", mobile="07700 900101"),
        staff("pt-dsl", "Dee Lead", "dsl", mobile="07700 900102"),
        staff("pt-ta", "Tam Assist", "ta", mobile="07700 900103"),
        staff("pt-office", "Ola Office", "office", mobile="07700 900104"),
        staff("pt-v1", "Alex Visitor", "pastoral", mobile="07700 900105"),
        staff("pt-v2", "Sam Second", "dsl", mobile="07700 900106"),
    ],
    "birchwood": [
        staff("bw-dsl", "Bea Lead", "dsl", mobile="07700 900201"),
        staff("bw-slt", "Ben Senior", "slt", mobile="07700 900202"),
        staff("bw-pastoral", "Pat O'Reilly", "pastoral", "line-manager", mobile="07700 900203"),
        staff("bw-office", "Orla Desk", "office", mobile="07700 900204"),
    ],
}
PUPILS = [
    ("potton", "A1000000001", "Test", "Pupil", "1 Example Road, Potton, SG19 0XX", 92, 100),
    ("potton", "A1000000002", "Zoë", "D'Arcy", "2 Example Road, Potton, SG19 0XX", 61, 100),
    ("birchwood", "B2000000001", "Kit", "Example", "3 Example Lane, Birchwood, WA3 0XX", 85, 100),
]


def directory() -> Directory:
    """The two schools' staff directories."""
    return staff_directory(STAFF)


def seed_pupils(store: Store) -> None:
    """The fictional pupils and their register: ``attended`` of ``possible`` sessions up to today."""
    with store.begin() as conn:
        for school, mis_id, forename, surname, address, attended, possible in PUPILS:
            conn.execute(insert(pupils).values(
                school_id=school, mis_id=mis_id, upn=f"U{mis_id}", forename=forename, surname=surname,
                display_name=f"{forename} {surname}", address_text=address))
            conn.execute(insert(pupil_session_marks), mark_rows(school, mis_id, attended, possible, NOW.date()))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def potton_request(**fields: Any) -> dict[str, Any]:
    """A Potton visit the policy is happy with, but for its overdue review date (a warning to acknowledge)."""
    doc: dict[str, Any] = {
        "school": "potton",
        "pupil": "A1000000001",
        "reason": "unexplained-absence",
        "purpose": "Talk with the family about attendance.",
        "planned_start": iso(START),
        "expected_return": iso(START + timedelta(hours=1)),
        "staff": ["pt-v1", "pt-v2"],
        "parents_informed": True,
        "parent_agreement": True,
        "line_manager_informed": True,
        "logged_with_office": True,
        "phones_given_to_office": True,
        "background_shown_at": iso(NOW),
        "risk_assessment": {"code_word": "bluebell", "completed_by": "pt-head"},
        "vehicle": {"make": "Ford", "model": "Fiesta", "registration": "AB12 CDE", "colour": "blue"},
    }
    doc.update(fields)
    return doc


REVIEW_WARNING = "core.policy-review-overdue"
"""Potton's policy was due for review by October 2026: every Potton visit carries this warning."""


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def write_config(path: Path, database_url: str) -> Path:
    """An hvc.toml for Potton and Birchwood with their staff directories, on ``database_url``."""
    lines = ["[database]", f"url = {_toml(database_url)}", ""]
    for school, name in (("potton", "Potton Primary School"), ("birchwood", "Birchwood Community High School")):
        lines += [f"[schools.{school}]", f"name = {_toml(name)}", f"policy = {_toml(school)}", ""]
    for school, people in STAFF.items():
        for person in people:
            lines.append(f"[[staff.{school}]]")
            lines += [f"{key} = {_toml(value)}" for key, value in person.items() if value is not None]
            lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def birchwood_request(**fields: Any) -> dict[str, Any]:
    """A Birchwood visit its policy is happy with: the DSL or SLT may authorise it at once."""
    doc: dict[str, Any] = {
        "school": "birchwood", "pupil": "B2000000001", "reason": "attendance",
        "purpose": "Agree an attendance plan with Kit's mum.", "planned_start": START.isoformat(),
        "expected_return": (START + timedelta(hours=1)).isoformat(), "staff": ["bw-pastoral", "bw-dsl"],
        "parents_informed": True, "line_manager_informed": True, "background_shown_at": NOW.isoformat(),
        "risk_assessment": {"code_word": "heron"},
    }
    doc.update(fields)
    return doc
