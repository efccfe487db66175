"""Fictional visits out on a home visit, written straight into a store, for the watch's tests, trials and bench.

Visits are inserted as the lifecycle leaves them once signed out (state
``signed-out``, a ``visit_events`` row), so the watch sees exactly what it
would see in real use, without walking each one through request and
authorisation. Check-ins, extensions and returns in the tests go through the
real :class:`~hv_connector.visits.service.VisitService`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hv_connector.clock import Clock, at_london
from hv_connector.models import Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.store import Store
from hv_connector.store.hashing import digest
from hv_connector.store.schema import visit_events, visits
from hv_connector.testing import base_visit, staff, staff_directory
from hv_connector.visits import timetable
from hv_connector.visits.directory import Directory
from hv_connector.visits.lifecycle import WATCHED
from hv_connector.visits.service import VisitService
from hv_connector.watch.notify import Notice, Notifier
from hv_connector.watch.tick import Watch

SCHOOL = "potton"
START = at_london(date(2026, 11, 23), time(10, 0))
"""Visits start at 10:00 on Monday 23 November 2026 and are due back at 11:00."""

STAFF = [
    staff("pt-head", "Jo Watts-Test", "headteacher", "slt", mobile="07700 900101", email="head@potton.example"),
    staff("pt-dsl", "Dee Lead", "dsl", mobile="07700 900102", email="dsl@potton.example"),
    staff("pt-office", "Ola Office", "office", mobile="07700 900104", email="office@potton.example"),
    staff("s1", "Alex Visitor", "pastoral", mobile="07700 900105"),
    staff("s2", "Sam Second", "ta", mobile="07700 900106"),
]


def directory(people: Sequence[dict[str, Any]] = STAFF) -> Directory:
    """Potton's fictional staff directory (``people``, default :data:`STAFF`)."""
    return staff_directory({SCHOOL: people})


def policies() -> Policies:
    """The installed policies (Potton's plugin among them)."""
    return Policies(build_plugin_manager())


def visit_document(visit_id: str, *, start: datetime = START, back: timedelta = timedelta(hours=1),
                   **fields: Any) -> Visit:
    """A signed-out Potton visit with two staff (``s1``, ``s2``) out from 20 minutes before ``start``."""
    data = base_visit(SCHOOL, reason="attendance", start=start)
    data.update(id=visit_id, expected_return=(start + back).isoformat(),
                signed_out_at=(start - timedelta(minutes=20)).isoformat(),
                staff=[p for p in STAFF if p["id"] in ("s1", "s2")])
    data["risk_assessment"] = {**data["risk_assessment"], "code_word": None}
    data.update(fields)
    return Visit.model_validate(data)


def add_visits(store: Store, documents: Iterable[Visit], *, state: str = "signed-out", timetables: bool = True) -> None:
    """Write ``documents`` as visits in ``state``, each with the event that put it there.

    A visit the watch looks after gets its timetable as sign-out writes it, unless ``timetables`` is false
    (a visit signed out before revision 0008); every visit gets its document's digest, as the lifecycle writes it.
    """
    rows, events = [], []
    known = policies() if timetables and state in WATCHED else None
    for visit in documents:
        assert visit.id is not None
        columns, answered = timetable.ask(known, visit) if known is not None else (timetable.EMPTY, False)
        data = visit.model_dump(mode="json")
        rows.append({
            "id": visit.id, "school_id": visit.school, "pupil_mis_id": visit.pupil.mis_id, "state": state,
            "planned_start": visit.planned_start, "expected_return": visit.expected_return,
            "address_text": visit.address, "reason": visit.reason, "staff_ids": [s.id for s in visit.staff],
            "data": data, "data_hash": digest(data), "code_word": "bluebell", "version": 1,
            **(columns if answered else timetable.EMPTY),
            "created_at": visit.planned_start - timedelta(days=1), "updated_at": visit.signed_out_at or visit.planned_start,
        })
        events.append({"visit_id": visit.id, "at": visit.signed_out_at or visit.planned_start, "actor": "pt-office",
                       "event": "sign-out", "from_state": "authorised", "to_state": state})
    with store.begin() as conn:
        for chunk in range(0, len(rows), 500):
            conn.execute(insert(visits), rows[chunk:chunk + 500])
            conn.execute(insert(visit_events), events[chunk:chunk + 500])


def write_config(tmp_path: Path, database_url: str, people: Sequence[dict[str, Any]] = STAFF) -> Path:
    """hvc.toml for Potton with its fictional directory, ``people`` (the tests' and the trials' configuration)."""
    entries = "\n".join(
        f'[[staff.potton]]\nid = "{p["id"]}"\nname = "{p["name"]}"\nroles = {json.dumps(p["roles"])}\n'
        f'mobile = "{p["mobile"]}"\n' + (f'email = "{p["email"]}"\n' if p.get("email") else "")
        for p in people
    )
    path = tmp_path / "hvc.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n\n[schools.potton]\nname = "Potton Primary School"\n'
                    f'policy = "potton"\n\n{entries}')
    return path


class Recorder:
    """A notifier that remembers what it was asked to send, and can be told to fail."""

    name = "recorder"

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.failures = failures

    def addresses(self, notice: Notice) -> list[str]:
        return [r.mobile for r in notice.recipients if r.mobile] or ["nobody"]

    def send(self, notice: Notice, address: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway down")
        self.sent.append((notice.key, notice.kind, address))


def make_watch(store: Store, clock: Clock, *, notifiers: Sequence[Notifier] | None = None,
               known: Policies | None = None, people: Directory | None = None) -> Watch:
    """A watch over ``store`` with Potton's directory (or ``people``), the installed policies and the lifecycle service."""
    from hv_connector.builtin.notifiers import LogNotifier, StoreNotifier

    chosen = list(notifiers) if notifiers is not None else [StoreNotifier(), LogNotifier()]
    known = known or policies()
    people = people or directory()
    service = VisitService(store=store, policies=known, directory=people, clock=clock)
    return Watch(store=store, policies=known, service=service, staff=people.staff, notifiers=chosen, clock=clock)


GATEWAY_SCRIPT = ('echo "{stamp}$HVC_NOTIFY_VISIT|$HVC_NOTIFY_KIND|$HVC_NOTIFY_TO|$(printf %s "$HVC_NOTIFY_TEXT" | cksum)"'
                  ' >> {log}')
"""A fake SMS gateway: one line for each message handed to it (visit, kind, number, the text's checksum)."""


def add_gateway(config: Path, log: Path, *, timeout: float = 10, stamped: bool = False) -> None:
    """Send every alarm through the command notifier to :data:`GATEWAY_SCRIPT`, which logs each message to ``log``.

    What leaves the system is what the trials count: a message the gateway was handed twice is in ``log`` twice.
    ``stamped`` starts each line with the Unix time it was handed over, then ``|``.
    """
    argv = ["sh", "-c", GATEWAY_SCRIPT.format(log=log, stamp="$(date +%s.%N)|" if stamped else "")]
    with config.open("a") as toml:
        toml.write(f"\n[watch.notifiers.command]\nargv = {json.dumps(argv)}\ntimeout = {timeout}\n")


def gateway_line(visit_id: str, kind: str, to: str, text: str) -> str:
    """The line :data:`GATEWAY_SCRIPT` writes (unstamped) for the text ``text`` of a ``kind`` event handed over for ``to``."""
    return f"{visit_id}|{kind}|{to}|{_cksum(text.encode('utf-8'))}"


def _cksum(data: bytes) -> str:
    """What POSIX ``cksum`` prints for ``data``: its CRC (the length appended, bytes low first), then its length."""
    crc = 0

    def feed(byte: int) -> None:
        nonlocal crc
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF

    for byte in data:
        feed(byte)
    length = len(data)
    while length:
        feed(length & 0xFF)
        length >>= 8
    return f"{crc ^ 0xFFFFFFFF} {len(data)}"


def gateway_lines(log: Path) -> list[str]:
    """The messages the fake gateway was handed so far, one line each."""
    return log.read_text().splitlines() if log.exists() else []
