"""A small fictional world for the dashboard tests and benchmark: Potton's staff, awkward pupil names,
and visits in every state the screens show, made through the real visit service on a real store.

The clock is fixed at 08:00 on Monday 23 November 2026 (London); visits are planned for 10:00.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import insert, update

from hv_connector.clock import FixedClock, at_london
from hv_connector.models import VisitOutcome
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.store import Store
from hv_connector.store.schema import outbox, pupil_attendance, pupil_session_marks, pupils, quarantine, sync_runs
from hv_connector.testing import staff, staff_directory
from hv_connector.visits.codewords import CodeWords
from hv_connector.visits.directory import Directory
from hv_connector.visits.service import VisitService
from hv_connector.watch.escalations import Escalations
from hv_connector.watch.tick import Watch
from hvc_tui.session import Session
from tests.markkit import mark_rows

NOW = at_london(date(2026, 11, 23), time(8, 0))
"""When the visits are asked for; the world's clock then moves to :data:`BOARD_NOW`."""
BOARD_NOW = at_london(date(2026, 11, 23), time(9, 36))
"""When the screens look: the early visit (back by 09:25, grace 10 minutes) is overdue, its first step fired."""
EARLY = at_london(date(2026, 11, 23), time(8, 45))
START = at_london(date(2026, 11, 23), time(10, 0))
REVIEW_WARNING = "core.policy-review-overdue"
"""Potton's policy was due for review by October 2026: every Potton visit carries this warning."""
CODE_WORD_BLOCK = "potton.code-word"

STAFF = {
    "potton": [
        staff("pt-head", "Hana Head-Test", "headteacher", "slt", mobile="07700 900301"),
        staff("pt-dsl", "Dev Safeguard", "dsl", mobile="07700 900302"),
        staff("pt-ta", "Tia Helper", "ta", mobile="07700 900303"),
        staff("pt-office", "Omar Front", "office", mobile="07700 900304"),
        staff("pt-v1", "Ash Visitor", "pastoral", mobile="07700 900305"),
        staff("pt-v2", "Sky Second", "dsl", mobile="07700 900306"),
    ],
}

INJECTION = "[bold red]Test[/]"
"""A pupil whose MIS name looks like console markup: it must show exactly as written."""

PUPILS = [
    ("A1000000001", "Amira", "Example", "Amira Example", "1 Example Road, Potton, SG19 0XX"),
    ("A1000000002", "Zoë", "D'Arcy", "Zoë D'Arcy", "2 Example Road, Potton, SG19 0XX"),
    ("A1000000003", "Test", "Markup", INJECTION, "[link=https://bad.example]3 Example Road[/link], SG19 0XX"),
    ("A1000000004", "Noa", "Emoji", "Noa 🦊 Emoji", "4 Example Road, Potton, SG19 0XX"),
    ("A1000000005", "أحمد", "خان", "أحمد خان", "5 شارع المثال, Potton, SG19 0XX"),
    ("A1000000006", "Zoe\u0308", "Combining", "Zoe\u0308 Combining", "6 Example Road, Potton, SG19 0XX"),
]


def directory() -> Directory:
    return staff_directory(STAFF)


def seed_pupils(store: Store) -> None:
    with store.begin() as conn:
        for mis_id, forename, surname, display, address in PUPILS:
            conn.execute(insert(pupils).values(school_id="potton", mis_id=mis_id, upn=f"U{mis_id}",
                                               forename=forename, surname=surname, display_name=display,
                                               address_text=address, year_group="7"))
            conn.execute(insert(pupil_attendance).values(school_id="potton", pupil_mis_id=mis_id, period="3m",
                                                         possible=100, attended=88, authorised=4, unauthorised=8))
            conn.execute(insert(pupil_session_marks), mark_rows("potton", mis_id, 88, 100, NOW.date()))


def request(pupil: str = "A1000000001", start: datetime = START, **fields: Any) -> dict[str, Any]:
    """A Potton request the policy is happy with, but for its overdue review date (a warning)."""
    doc: dict[str, Any] = {
        "school": "potton", "pupil": pupil, "reason": "unexplained-absence",
        "purpose": "Talk with the family about attendance.",
        "planned_start": start.isoformat(), "expected_return": (start + timedelta(minutes=40)).isoformat(),
        "staff": ["pt-v1", "pt-v2"], "parents_informed": True, "parent_agreement": True,
        "line_manager_informed": True, "logged_with_office": True, "phones_given_to_office": True,
        "background_shown_at": NOW.isoformat(),
        "risk_assessment": {"code_word": "bluebell", "completed_by": "pt-head"},
        "vehicle": {"make": "Ford", "model": "Fiesta", "registration": "AB12 CDE", "colour": "blue"},
    }
    doc.update(fields)
    return doc


@dataclass
class World:
    """The seeded store and the ids of its visits, by what they are for."""

    store: Store
    clock: FixedClock
    service: VisitService
    ids: dict[str, str]

    def session(self, actor: str = "pt-head") -> Session:
        return Session(self.service, self.escalations, actor)

    @property
    def escalations(self) -> Escalations:
        watch = Watch(store=self.store, policies=self.service.policies, service=self.service,
                      staff=self.service.directory.staff, notifiers=[], clock=self.clock)
        return Escalations(watch)


def attach(store: Store, ids: dict[str, str], policies: Policies | None = None,
           now: datetime = BOARD_NOW) -> World:
    """The world on a store already seeded (e.g. a copy of one :func:`make_world` wrote), its clock at ``now``."""
    clock = FixedClock(now)
    # The code word key beside the store's file, so a copy of both (conftest's ``world``) opens its code words.
    service = VisitService(store=store, policies=policies or Policies(build_plugin_manager()),
                           directory=directory(), clock=clock,
                           code_words=CodeWords.beside(Path(str(store.engine.url.database))))
    return World(store, clock, service, ids)


def make_world(store: Store, policies: Policies | None = None) -> World:
    """Pupils, and visits: two pending (a warning; a block), one out, one overdue with an escalation step,
    one returned (to report on), one reported whose CPOMS record CPOMS refused; a sync run and quarantine."""
    world = attach(store, {}, policies, now=NOW)
    clock, service = world.clock, world.service
    seed_pupils(store)
    numbers = itertools.count(1)
    with patch("hv_connector.visits.service.secrets") as ids_source:
        ids_source.token_hex.side_effect = lambda _: f"{next(numbers):010d}"
        world.ids.update(_visits(service))
    ids = world.ids
    clock.set(EARLY + timedelta(minutes=11))  # Potton's office calls ten minutes after the start
    service.check_in(ids["overdue"], by="pt-office", kind="office-call", note="All fine, staying 30 minutes")
    clock.set(BOARD_NOW)
    world.escalations.watch.tick()
    _records(store, ids)
    return world


def _visits(service: VisitService) -> dict[str, str]:
    ids: dict[str, str] = {}
    ids["warned"] = service.request(request("A1000000002"), by="pt-v1").record.id
    no_word = request("A1000000003", risk_assessment={"completed_by": "pt-head"})
    ids["blocked"] = service.request(no_word, by="pt-v1").record.id
    for name, pupil in (("out", "A1000000004"), ("overdue", "A1000000005"), ("returned", "A1000000006"),
                        ("reported", "A1000000001")):
        start = EARLY if name == "overdue" else START
        visit_id = service.request(request(pupil, start), by="pt-v1").record.id
        service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
        service.sign_out(visit_id, by="pt-office")
        ids[name] = visit_id
    for name in ("returned", "reported"):
        service.return_(ids[name], by="pt-office")
    service.report(ids["reported"], VisitOutcome(child_seen=True, child_words="I like school."), by="pt-v1")
    return ids


def _records(store: Store, ids: dict[str, str]) -> None:
    """What a push and a sync would have written: a record CPOMS refused, a run with a record quarantined."""
    with store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.visit_id == ids["reported"]).values(
            status="parked", attempts=1, last_error="422: category 'Home visit' is not known [sic]"))
        conn.execute(insert(sync_runs).values(school_id="potton", started_at=NOW - timedelta(hours=2),
                                              finished_at=NOW - timedelta(hours=2) + timedelta(seconds=40),
                                              status="ok", added=6, updated=0, archived=0, quarantined=1,
                                              requests=4, seconds=40.0, message=None))
        conn.execute(insert(quarantine).values(school_id="potton", resource="students", record_id="[red]X9[/]",
                                               reason="no surname", payload={}, first_seen_at=NOW,
                                               last_seen_at=NOW))
