"""A concern written for the DSL team and not confirmed as entered in CPOMS in time raises one alarm on the watch."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Row, select

from hv_connector.builtin.manual_sink import ManualSink
from hv_connector.clock import FixedClock, at_london
from hv_connector.config.settings import SinkSettings
from hv_connector.errors import SinkRefused
from hv_connector.models import StaffMember
from hv_connector.outbox.push import Pusher
from hv_connector.outbox.queue import confirm, enqueue_visit_report
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery
from hv_connector.runtime import Runtime
from hv_connector.store import Store
from hv_connector.store.schema import escalations
from hv_connector.watch.concerns import concern_pusher
from hv_connector.watch.entry import school_deadline
from hv_connector.watch.notify import Notice
from tests.cpomskit import AnswersAtOnce
from tests.integration.watch.watchkit import STAFF, Recorder, add_visits, make_watch, policies, visit_document

WRITTEN = at_london(date(2026, 11, 23), time(10, 30))
"""The concern is written on a Monday morning, in school hours."""
DSL_MOBILE = next(p["mobile"] for p in STAFF if p["id"] == "pt-dsl")


@pytest.fixture
def store(sqlite_url: str) -> Store:
    with Store.open(sqlite_url) as opened:
        yield opened


def written_concern(store: Store, folder: Path) -> int:
    """A reported Potton visit whose concern the manual sink has written out; the concern's outbox id."""
    visit = visit_document("v-1", outcome={"cp_concern": True, "concerns": "Bruise on the arm.", "child_seen": True})
    add_visits(store, [visit], state="reported")
    with store.begin() as conn:
        concern, _routine = enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    summary = asyncio.run(Pusher(store, lambda _school: ManualSink(folder), now=lambda: WRITTEN).run())
    assert summary.count("written") == 2
    return concern


def test_an_unconfirmed_concern_alarms_the_dsl_once_after_thirty_minutes_and_confirming_closes_it(
        store: Store, tmp_path: Path) -> None:
    concern = written_concern(store, tmp_path / "records")
    clock = FixedClock(WRITTEN + timedelta(minutes=29))
    recorder = Recorder()
    watch = make_watch(store, clock, notifiers=[recorder])

    assert watch.tick().fired == []
    clock.advance(timedelta(minutes=2))
    [alarm] = watch.tick().fired
    assert (alarm.kind, alarm.visit_id, alarm.due_at) == ("entry-unconfirmed", "v-1", WRITTEN + timedelta(minutes=30))
    assert (f"entry-unconfirmed:{concern}", "entry-unconfirmed", DSL_MOBILE) in recorder.sent
    clock.advance(timedelta(hours=1))
    assert watch.tick().fired == []  # once

    closed = confirmed_by_the_dsl(store, concern, "10422", clock.now())
    assert closed.closed_at is not None and closed.note == "entered in CPOMS as 10422 (confirmed by Dee Lead)"


def confirmed_by_the_dsl(store: Store, concern: int, ref: str, now: datetime) -> Row[tuple[datetime | None, str | None]]:
    """Potton's DSL confirms the concern as ``ref``; the alarm's row as that leaves it (when closed, and why)."""
    dsl = StaffMember.model_validate(next(p for p in STAFF if p["id"] == "pt-dsl"))
    confirm(store, concern, ref=ref, by=dsl, now=now)
    with store.connect() as conn:
        return conn.execute(select(escalations.c.closed_at, escalations.c.note)).one()


class TraySink(AnswersAtOnce):
    """A receiver that keeps every record unmatched in its Incident Tray, as CPOMS does with a partner's records."""

    def __init__(self, concern_number: str = "5001") -> None:
        self.concern_number = concern_number
        """What the receiver answers as the concern's incident number (a plugin's receiver may give any text)."""

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        return Delivery(self.concern_number if report.kind == "concern" else "5002", status="tray")


def test_a_concern_left_unattached_in_the_tray_alarms_like_an_unentered_one_and_confirming_closes_it(
        store: Store) -> None:
    visit = visit_document("v-1", outcome={"cp_concern": True, "concerns": "Bruise on the arm.", "child_seen": True})
    add_visits(store, [visit], state="reported")
    with store.begin() as conn:
        concern, _routine = enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    assert asyncio.run(Pusher(store, lambda _school: TraySink(), now=lambda: WRITTEN).run()).count("in-tray") == 2
    clock = FixedClock(WRITTEN + timedelta(minutes=29))
    recorder = Recorder()
    watch = make_watch(store, clock, notifiers=[recorder])

    assert watch.tick().fired == []
    clock.advance(timedelta(minutes=2))
    [alarm] = watch.tick().fired  # the concern only, as for a manual school
    assert (alarm.kind, alarm.visit_id, alarm.due_at) == ("entry-unconfirmed", "v-1", WRITTEN + timedelta(minutes=30))
    assert (f"entry-unconfirmed:{concern}", "entry-unconfirmed", DSL_MOBILE) in recorder.sent
    with store.connect() as conn:
        text = conn.execute(select(escalations.c.message)).scalar_one()
    assert f"(outbox record {concern}, CPOMS incident 5001) is in CPOMS's Incident Tray, on no pupil's chronology" in text
    assert f"hvc outbox confirm {concern} --ref 5001" in text and visit.pupil.name not in text
    clock.advance(timedelta(hours=1))
    assert watch.tick().fired == []  # once

    closed = confirmed_by_the_dsl(store, concern, "5001", clock.now())
    assert closed.closed_at is not None
    assert closed.note == "attached to the pupil in CPOMS as incident 5001 (confirmed by Dee Lead)"


@pytest.mark.parametrize("number", ["", "77\x1b[2J\nsent"], ids=["no-number", "hostile-number"])
def test_the_tray_alarm_says_the_receiver_s_number_as_text_and_never_a_broken_command(store: Store, number: str) -> None:
    visit = visit_document("v-1", outcome={"cp_concern": True, "concerns": "Bruise on the arm.", "child_seen": True})
    add_visits(store, [visit], state="reported")
    with store.begin() as conn:
        concern, _routine = enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    asyncio.run(Pusher(store, lambda _school: TraySink(number), now=lambda: WRITTEN).run())
    watch = make_watch(store, FixedClock(WRITTEN + timedelta(minutes=31)), notifiers=[Recorder()])
    assert len(watch.tick().fired) == 1
    with store.connect() as conn:
        text = conn.execute(select(escalations.c.message)).scalar_one()
    assert "\x1b" not in text and "\n" not in text  # one line, whatever the receiver said
    if number:
        assert "CPOMS incident 77\\x1b[2J\\x0asent) is in" in text and "--ref 77\\x1b[2J\\x0asent --as" in text
    else:
        assert "CPOMS incident number not given) is in" in text and f"hvc outbox confirm {concern} --ref INCIDENT_NO --as" in text


class Subjects(Recorder):
    """Remembers the subject line of each notice it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.subjects: list[str] = []

    def send(self, notice: Notice, address: str) -> None:
        self.subjects.append(notice.subject)


def test_the_alarm_for_a_concern_in_the_tray_is_not_titled_as_if_it_were_not_in_cpoms(store: Store) -> None:
    visit = visit_document("v-1", outcome={"cp_concern": True, "concerns": "Bruise on the arm.", "child_seen": True})
    add_visits(store, [visit], state="reported")
    with store.begin() as conn:
        enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    asyncio.run(Pusher(store, lambda _school: TraySink(), now=lambda: WRITTEN).run())
    recorder = Subjects()
    watch = make_watch(store, FixedClock(WRITTEN + timedelta(minutes=31)), notifiers=[recorder])
    assert [e.kind for e in watch.tick().fired] == ["entry-unconfirmed"]
    # It is in CPOMS, in the tray: "not yet entered" would have the DSL team enter it a second time.
    assert recorder.subjects and all("not yet entered" not in s and "CPOMS" in s for s in recorder.subjects)


def test_a_school_sets_its_own_time_to_confirm(store: Store, tmp_path: Path) -> None:
    written_concern(store, tmp_path / "records")
    clock = FixedClock(WRITTEN + timedelta(minutes=11))
    watch = make_watch(store, clock, notifiers=[Recorder()])
    watch.sinks = {"potton": SinkSettings(confirm_within_minutes=10)}
    assert [e.kind for e in watch.tick().fired] == ["entry-unconfirmed"]


def test_the_watch_writes_a_manual_schools_concern_at_once(store: Store, sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "records"
    config = tmp_path / "hvc.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[schools.potton]\nname = "Potton"\npolicy = "potton"\n'
                      f'[schools.potton.sink]\nfolder = "{folder}"\n', encoding="utf-8")
    visit = visit_document("v-9", outcome={"cp_concern": True, "concerns": "Said she is scared.", "child_seen": True})
    with store.begin() as conn:
        enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    push = concern_pusher(Runtime(config_path=config))
    assert push is not None
    push()
    assert sorted(f.name for f in folder.iterdir()) == ["v-9-concern-r1.pdf", "v-9-concern-r1.txt"]  # not the routine one


class RefusingSink(TraySink):
    """A receiver that refuses every record (an unknown pupil, say): the concern is parked."""

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        raise SinkRefused("no pupil with that UPN")


@pytest.mark.parametrize(("sink", "said", "level"), [
    (TraySink, "in CPOMS's tray to attach 1", "INFO"),
    (RefusingSink, "parked 1", "WARNING"),  # a concern the receiver refused is a warning, not news
], ids=["tray", "parked"])
def test_the_watch_logs_what_became_of_each_concern_it_pushed(
        store: Store, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, sink: type[TraySink], said: str, level: str) -> None:
    config = tmp_path / "hvc.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[schools.potton]\nname = "Potton"\npolicy = "potton"\n',
                      encoding="utf-8")
    visit = visit_document("v-9", outcome={"cp_concern": True, "concerns": "Said she is scared.", "child_seen": True})
    with store.begin() as conn:
        enqueue_visit_report(conn, policies(), visit, "concern", now=WRITTEN)
    monkeypatch.setattr("hv_connector.watch.concerns.open_sinks", lambda *_args: lambda _school: sink())
    push = concern_pusher(Runtime(config_path=config))
    assert push is not None
    with caplog.at_level("INFO", logger="hv_connector.watch"):
        push()
    # Not "sent 0, written for entry 0, waiting 0", as if nothing had happened to it.
    [logged] = [r for r in caplog.records if r.name == "hv_connector.watch" and "pushed concerns" in r.getMessage()]
    assert said in logged.getMessage() and logged.levelname == level


@pytest.mark.parametrize(("written", "deadline"), [
    (datetime(2026, 11, 23, 10, 30), datetime(2026, 11, 23, 11, 0)),  # Monday morning
    (datetime(2026, 11, 20, 16, 50), datetime(2026, 11, 23, 8, 20)),  # Friday 16:50: 10 minutes, then Monday
    (datetime(2026, 11, 21, 12, 0), datetime(2026, 11, 23, 8, 30)),  # a Saturday: Monday's first half hour
    (datetime(2026, 11, 23, 6, 0), datetime(2026, 11, 23, 8, 30)),  # before school opens
])
def test_the_time_to_confirm_runs_in_school_hours_only(written: datetime, deadline: datetime) -> None:
    london = written.replace(tzinfo=at_london(written.date(), time(0)).tzinfo)
    assert school_deadline(london, 30, "08:00-17:00") == at_london(deadline.date(), deadline.time())
