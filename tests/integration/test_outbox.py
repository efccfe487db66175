"""The outbox on a real store (SQLite, then PostgreSQL): queue, order, claim, park, retry, ask-first.

The sink here is a small in-memory remote system (as a school's own sink
plugin would be), so each test controls exactly what "CPOMS" answers; the
loopback CPOMS fake is exercised in test_push_cpoms.py.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import Connection, insert, inspect, select, text, update

from hv_connector.errors import ConfigError, RefusedError, SinkOutcomeUnknown, SinkRefused, SinkUnavailable
from hv_connector.models import StaffMember, Visit
from hv_connector.outbox import queue as queue_module
from hv_connector.outbox.push import Pusher
from hv_connector.outbox.queue import (
    OutboxRecord,
    check_doubt,
    confirm,
    enqueue_visit_report,
    get_record,
    idempotency_key,
    retry,
)
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery
from hv_connector.plugins import Policies
from hv_connector.read.history import history_lines
from hv_connector.read.queries import outbox_rows
from hv_connector.store import Store, audit
from hv_connector.store.migrate import alembic_config, head_revision
from hv_connector.store.rows import DoubtFound
from hv_connector.store.schema import acknowledgements, outbox, staff, visit_events, visits
from tests.cpomskit import demo_visit, kit_policies

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


class Remote:
    """An in-memory report sink: keeps what it is sent, answers as each test scripts it."""

    def __init__(self) -> None:
        self.records: dict[str, Delivery] = {}
        self.keys: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.script: list[BaseException | None] = []
        """One entry per submit: an exception to raise (after storing it when ``outcome_unknown``) or None."""
        self.in_flight = 0
        self.max_in_flight_per_record: dict[str, int] = {}
        self.status = "recorded"
        """What it answers for a new record: ``tray`` keeps it unmatched, for a person to attach (as CPOMS does)."""

    async def __aenter__(self) -> Remote:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def find(self, report: VisitReport) -> Delivery | None:
        self.calls.append(("find", report.record_id))
        found = self.records.get(report.record_id)
        return None if found is None else Delivery(found.remote_id, already_there=True, status=found.status)

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        self.calls.append(("submit", report.record_id))
        self.in_flight += 1
        await asyncio.sleep(0)
        self.in_flight -= 1
        failure = self.script.pop(0) if self.script else None
        if failure is not None and not getattr(failure, "outcome_unknown", False):
            raise failure  # refused, or never reached CPOMS
        if idempotency_key in self.keys:
            delivery = Delivery(self.records[self.keys[idempotency_key]].remote_id, already_there=True)
        else:
            delivery = Delivery(str(100 + len(self.records)), status=self.status)
            self.records[report.record_id] = delivery
            self.keys[idempotency_key] = report.record_id
        if failure is not None:
            raise failure
        return delivery


@pytest.fixture
def policies() -> Policies:
    return kit_policies("oak")


def visit(visit_id: str, **outcome: object) -> Visit:
    return demo_visit(None, "oak", 0, visit_id=visit_id, **outcome)


def queue(store: Store, policies: Policies, *visits: Visit, at: datetime = NOW) -> list[int]:
    with store.begin() as conn:
        return [i for v in visits for i in enqueue_visit_report(conn, policies, v, "home-visit", now=at, actor="t1")]


def push(store: Store, remote: Remote, clock: list[datetime] | None = None, **kwargs: object):
    moment = clock or [NOW]
    pusher = Pusher(store, lambda _school: remote, now=lambda: moment[0], **kwargs)
    return asyncio.run(pusher.run())


def test_a_finished_visit_queues_its_record_and_a_concern_that_goes_first(store: Store, policies: Policies) -> None:
    with store.begin() as conn:
        conn.execute(insert(staff).values(school_id="oak", id="d1", name="Dee Ess", roles=["dsl"],
                                          email="dsl@oak.example"))
    routine = queue(store, policies, visit("v-1"), at=NOW - timedelta(hours=1))
    concern_ids = queue(store, policies, visit("v-2", cp_concern=True, concerns="Bruising seen."))
    with store.connect() as conn:
        rows = outbox_rows(conn)
        concern_report = get_record(conn, rows[0].id).report
        entries = [e for e in audit.history(conn, "v-2")]
    assert [(r.kind, r.priority, r.alert_dsl) for r in rows] == [
        ("concern", 0, True), ("home-visit", 1, False), ("home-visit", 1, False)]
    assert concern_report.alert_emails == ("dsl@oak.example",)
    assert rows[0].id == concern_ids[0] and rows[1].id == routine[0]
    assert rows[0].idempotency_key == idempotency_key("v-2/concern", 1)
    assert [e.action for e in entries] == ["outbox.queued", "outbox.queued"]


def test_the_report_carries_the_decisions_on_record_by_name_with_their_reasons(
    store: Store, policies: Policies
) -> None:
    at = NOW - timedelta(hours=3)
    with store.begin() as conn:
        conn.execute(insert(staff).values(school_id="oak", id="h1", name="Hana Head", roles=["headteacher"]))
        conn.execute(insert(visits).values(id="v-1", school_id="oak", state="returned", planned_start=at,
                                           data={}, created_at=at, updated_at=at))
        conn.execute(insert(visit_events).values(visit_id="v-1", at=at, actor="h1", event="authorise",
                                                 note="Second adult confirmed."))
        conn.execute(insert(acknowledgements).values(visit_id="v-1", rule_id="oak.briefing", by="h1",
                                                     at=at + timedelta(minutes=1), note="Briefing read together."))
        conn.execute(insert(visit_events).values(visit_id="v-1", at=at + timedelta(hours=1), actor="h1",
                                                 event="extend", note="Family asked us to wait for dad."))
    [outbox_id] = queue(store, policies, visit("v-1"))
    with store.connect() as conn:
        report = get_record(conn, outbox_id).report
    assert [(d.what, d.by, d.reason) for d in report.decisions] == [
        ("Visit authorised", "Hana Head", "Second adult confirmed."),
        ("Warning oak.briefing acknowledged", "Hana Head", "Briefing read together."),
        ("Return time extended", "Hana Head", "Family asked us to wait for dad."),
    ]
    assert "Visit authorised by Hana Head" in report.description
    assert "reason: Family asked us to wait for dad." in report.description


def test_queueing_the_same_visit_again_writes_nothing_new(store: Store, policies: Policies) -> None:
    first = queue(store, policies, visit("v-1"))
    assert queue(store, policies, visit("v-1")) == first
    with store.connect() as conn:
        assert len(outbox_rows(conn)) == 1


def test_a_failed_transaction_leaves_no_record(store: Store, policies: Policies) -> None:
    with pytest.raises(RuntimeError), store.begin() as conn:
        enqueue_visit_report(conn, policies, visit("v-1"), "home-visit", now=NOW)
        raise RuntimeError("the visit's own change failed")
    with store.connect() as conn:
        assert outbox_rows(conn) == []


def test_push_sends_concerns_first_then_the_oldest(store: Store, policies: Policies) -> None:
    queue(store, policies, visit("v-old"), at=NOW - timedelta(hours=2))
    queue(store, policies, visit("v-new"))
    queue(store, policies, visit("v-worry", cp_concern=True), at=NOW - timedelta(minutes=1))
    remote = Remote()
    summary = push(store, remote, concurrency=1)
    assert [c[1] for c in remote.calls] == ["v-worry/concern", "v-old", "v-worry", "v-new"]
    assert (summary.count("sent"), summary.exit_code) == (4, 0)
    with store.connect() as conn:
        records = outbox_rows(conn)
    assert {r.status for r in records} == {"sent"}
    assert sorted(r.cpoms_id for r in records) == ["100", "101", "102", "103"]


def push_failing(store: Store, policies: Policies, failure: BaseException):
    """Queue visit v-1 and push it once to a remote that fails with ``failure``: (remote, summary, record)."""
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.script = [failure]
    summary = push(store, remote)
    with store.connect() as conn:
        return remote, summary, get_record(conn, outbox_id)


def test_a_refused_record_is_parked_with_the_reason_and_can_be_retried(store: Store, policies: Policies) -> None:
    refusal = SinkRefused("CPOMS refused the record (422 student_not_found): no such pupil")
    remote, summary, parked = push_failing(store, policies, refusal)
    outbox_id = parked.id
    assert (summary.count("parked"), summary.exit_code) == (1, 1)
    assert parked.status == "parked" and "student_not_found" in (parked.last_error or "")
    assert push(store, remote).outcomes == []  # parked records are not sent again on their own

    retried = retry(store, outbox_id, actor="d1", now=NOW)
    assert retried.status == "pending" and retried.report.revision == 2
    assert retried.idempotency_key == idempotency_key("v-1", 2)
    assert "revision 2" in retried.report.description
    assert push(store, remote).count("sent") == 1
    with store.connect() as conn:
        actions = [e.action for e in audit.history(conn, "v-1")]
    assert actions == ["outbox.queued", "outbox.parked", "outbox.retry"]


def test_retry_takes_a_corrected_report_and_refuses_what_is_not_parked(store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    with store.connect() as conn:
        payload = get_record(conn, outbox_id).payload
    with pytest.raises(RefusedError, match="is pending, not parked"):
        retry(store, outbox_id, actor="d1", now=NOW)
    with store.begin() as conn:
        conn.execute(update(outbox).values(status="parked", last_error="unknown category 'Home Visit'"))
    fixed = retry(store, outbox_id, actor="d1", now=NOW, fixed_payload={**payload, "categories": ["Welfare"]})
    assert fixed.report.categories == ("Welfare",)
    with store.begin() as conn:
        conn.execute(update(outbox).values(status="parked", last_error="unknown category 'Welfare'"))
    # A second fix made from the same saved payload (revision 1) still gets a key CPOMS has not seen.
    again = retry(store, outbox_id, actor="d1", now=NOW, fixed_payload={**payload, "categories": ["Attendance"]})
    assert (again.report.revision, again.report.categories) == (3, ("Attendance",))
    assert again.idempotency_key == idempotency_key("v-1", 3) != fixed.idempotency_key


def test_an_outage_leaves_the_record_waiting_with_a_back_off(store: Store, policies: Policies) -> None:
    remote, summary, waiting = push_failing(store, policies, SinkUnavailable("CPOMS is unavailable (503)"))
    assert (summary.count("waiting"), summary.exit_code) == (1, 1)
    assert waiting.status == "pending" and waiting.next_attempt_at == NOW + timedelta(seconds=30)
    assert push(store, remote).outcomes == []  # not due yet
    later = [NOW + timedelta(seconds=31)]
    assert push(store, remote, later).count("sent") == 1


def test_an_answer_lost_after_cpoms_stored_it_is_found_not_sent_twice(store: Store, policies: Policies) -> None:
    queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.script = [SinkOutcomeUnknown("dropped")]
    push(store, remote)
    summary = push(store, remote, [NOW + timedelta(minutes=5)])
    assert summary.count("already-there") == 1
    assert remote.calls == [("submit", "v-1"), ("find", "v-1")]
    assert len(remote.records) == 1


def test_a_record_the_receiver_keeps_in_its_tray_waits_to_be_attached_and_is_never_sent_again(
        store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.status = "tray"
    summary = push(store, remote)
    [outcome] = summary.outcomes
    assert (outcome.result, outcome.remote_id, summary.exit_code) == ("in-tray", "100", 0)
    assert outcome.message.startswith("in CPOMS's Incident Tray as incident 100: attach it to ")
    with store.connect() as conn:
        record = get_record(conn, outbox_id)
        [tray] = [e for e in audit.history(conn, "v-1") if e.action == "outbox.in-tray"]
    assert (record.status, record.cpoms_id, record.sent_at, record.next_attempt_at) == ("in-tray", "100", None, None)
    assert tray.detail["incident"] == "100"
    assert push(store, remote, [NOW + timedelta(days=1)]).outcomes == []
    assert remote.calls == [("submit", "v-1")]


def test_a_record_in_the_tray_is_not_retried_and_the_refusal_says_to_confirm_it(
        store: Store, policies: Policies) -> None:
    outbox_id, remote = pushed_into_the_tray(store, policies)
    with pytest.raises(RefusedError, match="is in-tray, not parked") as refused:
        retry(store, outbox_id, actor="d1", now=NOW)
    # Never "the next push retries it": nothing ever sends it again, only a confirmation ends it.
    assert "hvc push" not in str(refused.value) and "hvc outbox confirm" in str(refused.value)
    assert push(store, remote, [NOW + timedelta(days=1)]).outcomes == []


def test_the_audit_trail_says_in_words_a_record_went_to_the_tray_and_was_attached(
        store: Store, policies: Policies) -> None:
    outbox_id, _remote = pushed_into_the_tray(store, policies)
    dsl = StaffMember(id="d1", name="Dee Ess", roles=("dsl",))
    confirm(store, outbox_id, ref="100", by=dsl, now=NOW + timedelta(hours=1))
    with store.connect() as conn:
        entries = [e for e in audit.history(conn, "v-1") if e.action in ("outbox.in-tray", "outbox.confirmed")]
    tray, confirmed = (line.split("  ")[1] for line in history_lines(entries, {"d1": "Dee Ess"}, "Ada Example"))
    assert tray == (f"The CPOMS push left outbox record #{outbox_id} in CPOMS's Incident Tray as incident 100, on no "
                    "pupil's chronology, for the DSL team to attach to Ada Example.")
    assert confirmed == f"Dee Ess confirmed outbox record #{outbox_id} attached to Ada Example in CPOMS as incident 100."


class Unsure(Remote):
    """A remote that takes each record but, as the CPOMS client after a lost answer it could not resolve, says it
    may now hold it twice (in words with a control character, as a receiver's may have)."""

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        delivery = await super().submit(report, idempotency_key)
        return Delivery(delivery.remote_id, status=delivery.status, doubt="CPOMS may now hold it twice\x1b[2J")


SHOWN_DOUBT = "CPOMS may now hold it twice\\x1b[2J"
""":class:`Unsure`'s doubt as it is stored and shown: its control character a visible escape."""


def test_a_record_sent_again_into_the_tray_says_it_may_be_there_twice(
        store: Store, policies: Policies, caplog: pytest.LogCaptureFixture) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Unsure()
    remote.status = "tray"
    with caplog.at_level("WARNING", logger="hv_connector.outbox"):
        [outcome] = push(store, remote).outcomes
    # The DSL team attaching it must know to look for a second copy in the tray.
    assert outcome.result == "in-tray" and SHOWN_DOUBT in outcome.message
    assert any(SHOWN_DOUBT in r.getMessage() for r in caplog.records)
    with store.connect() as conn:
        [tray] = [e for e in audit.history(conn, "v-1") if e.action == "outbox.in-tray"]
        assert get_record(conn, outbox_id).doubt == tray.detail["doubt"] == SHOWN_DOUBT
    # The visit's history says so too, before anyone's check of it reads there.
    [line] = history_lines([tray], {}, "Ada Example")
    assert line.split("  ")[1] == (f"The CPOMS push left outbox record #{outbox_id} in CPOMS's Incident Tray as "
                                   "incident 100, on no pupil's chronology, for the DSL team to attach to Ada Example; "
                                   f"it may be in CPOMS twice: check CPOMS and merge the copies: {SHOWN_DOUBT}.")


def test_a_record_sent_that_may_be_there_twice_keeps_the_doubt_and_the_history_says_to_check(
        store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    [outcome] = push(store, Unsure()).outcomes
    with store.connect() as conn:
        record = get_record(conn, outbox_id)
        entries = [e for e in audit.history(conn, "v-1") if e.action == "outbox.may-be-twice"]
    assert (outcome.result, record.status, record.doubt) == ("sent", "sent", SHOWN_DOUBT)
    [line] = history_lines(entries, {}, "Ada Example")
    assert line.split("  ")[1] == (f"The CPOMS push sent outbox record #{outbox_id} to CPOMS as record 100; it may be "
                                   f"in CPOMS twice: check CPOMS and merge the copies: {SHOWN_DOUBT}.")


def test_a_record_that_may_be_there_twice_checked_by_the_dsl_team_keeps_the_doubt_and_the_history_says_what_was_found(
        store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    push(store, Unsure())
    dsl = StaffMember(id="d1", name="Dee Ess", roles=("deputy-dsl",))
    record = check_doubt(store, outbox_id, found="one", by=dsl, now=NOW + timedelta(hours=2))
    assert (record.doubt, record.to_check, record.checked) == (
        SHOWN_DOUBT, False, "checked by Dee Ess on Fri 20 Nov 2026 14:00: one copy")
    with store.connect() as conn:
        entries = [e for e in audit.history(conn, "v-1") if e.action == "outbox.twice-checked"]
    [line] = history_lines(entries, {"d1": "Dee Ess"}, "Ada Example")
    assert line.split("  ")[1] == (f"Dee Ess looked in CPOMS for a second copy of outbox record #{outbox_id} (CPOMS "
                                   "record 100) and found one copy.")


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_two_of_the_dsl_team_checking_one_record_at_the_same_instant_one_is_recorded_and_the_other_told(
        store: Store, policies: Policies, monkeypatch: pytest.MonkeyPatch) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    push(store, Unsure())
    both_read = threading.Barrier(2, timeout=20)
    reads, read = itertools.count(), queue_module.get_record

    def read_then_wait(conn: Connection, record_id: int) -> OutboxRecord:
        record = read(conn, record_id)
        if next(reads) < 2:  # each check's first read: both see the record unchecked before either writes
            both_read.wait()
        return record

    monkeypatch.setattr(queue_module, "get_record", read_then_wait)
    said: dict[str, str] = {}

    def check(name: str, found: DoubtFound) -> None:
        try:
            check_doubt(store, outbox_id, found=found, by=StaffMember(id=name, name=name, roles=("dsl",)), now=NOW)
            said[name] = "checked"
        except RefusedError as exc:
            said[name] = str(exc)

    people = [threading.Thread(target=check, args=person) for person in (("Dee Ess", "one"), ("Ash Lead", "two"))]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=30)
    [winner] = [name for name, outcome in said.items() if outcome == "checked"]
    [loser] = set(said) - {winner}
    assert said[loser] == (f"outbox record {outbox_id} was checked just now by someone else; see "
                           f"`hvc outbox show {outbox_id}`")
    with store.connect() as conn:
        assert get_record(conn, outbox_id).doubt_checked_by == winner
        assert len([e for e in audit.history(conn, "v-1") if e.action == "outbox.twice-checked"]) == 1


def test_the_latest_records_sent_list_first_those_that_may_be_in_cpoms_twice_until_checked(
        store: Store, policies: Policies) -> None:
    [unsure] = queue(store, policies, visit("v-1"))
    push(store, Unsure())
    later = queue(store, policies, visit("v-2"), visit("v-3"), at=NOW + timedelta(days=1))
    push(store, Remote(), clock=[NOW + timedelta(days=1)])

    def latest() -> list[int]:
        with store.connect() as conn:
            return [r.id for r in outbox_rows(conn, statuses=("sent",), newest_first=True, limit=2)]
    assert latest() == [unsure, later[-1]]  # a page of the latest never leaves it out
    check_doubt(store, unsure, found="one", by=StaffMember(id="d1", name="Dee Ess", roles=("dsl",)), now=NOW)
    assert latest() == list(reversed(later))


CHECKED = ("doubt", "doubt_checked_by", "doubt_checked_at", "doubt_found")
"""The columns revision 0015 adds to ``outbox``."""


def test_revision_0015_keeps_records_sent_before_it_without_doubt_and_goes_back(
        store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0014")
    assert store.upgrade() == head_revision()
    with store.connect() as conn:
        record = get_record(conn, outbox_id)
    assert [getattr(record, column) for column in CHECKED] == [None] * 4
    push(store, Unsure())
    check_doubt(store, outbox_id, found="two", by=StaffMember(id="d1", name="Dee Ess", roles=("dsl",)), now=NOW)
    with store.begin() as conn:
        command.downgrade(alembic_config(conn), "0014")
        assert not set(CHECKED) & {c["name"] for c in inspect(conn).get_columns("outbox")}
        assert conn.execute(text("SELECT status FROM outbox")).scalars().all() == ["sent"]
    store.upgrade()


def test_a_lost_answer_found_in_the_tray_by_reference_stays_in_the_tray(store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.status = "tray"
    remote.script = [SinkOutcomeUnknown("dropped")]
    push(store, remote)
    summary = push(store, remote, [NOW + timedelta(minutes=5)])
    assert [(o.result, o.remote_id) for o in summary.outcomes] == [("in-tray", "100")]
    assert remote.calls == [("submit", "v-1"), ("find", "v-1")]
    with store.connect() as conn:
        assert get_record(conn, outbox_id).status == "in-tray"


def test_a_record_left_sending_by_a_killed_push_is_asked_for_after_its_lease(store: Store, policies: Policies) -> None:
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.records["v-1"] = Delivery("77")  # the killed push got it there
    with store.begin() as conn:
        conn.execute(update(outbox).values(status="sending", attempts=1, next_attempt_at=NOW + timedelta(minutes=5)))
    assert push(store, remote).outcomes == []  # its lease still holds
    summary = push(store, remote, [NOW + timedelta(minutes=6)])
    assert [(o.result, o.remote_id) for o in summary.outcomes] == [("already-there", "77")]
    assert remote.calls == [("find", "v-1")]


def test_two_pushers_at_once_never_send_one_record_twice(store: Store, policies: Policies) -> None:
    queue(store, policies, *(visit(f"v-{n}") for n in range(12)))
    remote = Remote()

    async def both():
        a = Pusher(store, lambda _s: remote, now=lambda: NOW, concurrency=3)
        b = Pusher(store, lambda _s: remote, now=lambda: NOW, concurrency=3)
        return await asyncio.gather(a.run(), b.run())

    first, second = asyncio.run(both())
    assert first.count("sent") + second.count("sent") == 12
    assert sorted(r for kind, r in remote.calls if kind == "submit") == sorted(f"v-{n}" for n in range(12))
    with store.connect() as conn:
        sent = conn.execute(select(outbox.c.status)).scalars().all()
    assert sent == ["sent"] * 12


def test_a_school_without_a_sink_does_not_hold_back_the_others(store: Store, policies: Policies) -> None:
    queue(store, policies, visit("v-1"))
    with store.begin() as conn:
        conn.execute(insert(outbox).values(
            school_id="elm", visit_id="v-elm", kind="home-visit", priority=1, idempotency_key="k-elm",
            payload=get_record(conn, outbox_rows(conn)[0].id).payload | {"school": "elm", "record_id": "v-elm"},
            status="pending", attempts=0, next_attempt_at=NOW, alert_dsl=False, created_at=NOW))
    remote = Remote()

    def sink_for(school: str) -> Remote:
        if school == "elm":
            raise ConfigError("school 'elm' has no CPOMS token")
        return remote

    summary = asyncio.run(Pusher(store, sink_for, now=lambda: NOW).run())
    assert summary.count("sent") == 1 and summary.exit_code == 2
    assert "no CPOMS token" in summary.config_errors[0]


def test_two_confirmations_at_once_record_one_and_tell_the_other_who_did(store: Store, policies: Policies) -> None:
    outbox_id, _remote = pushed_into_the_tray(store, policies)
    second = StaffMember(id="d2", name="Deputy Dee", roles=("deputy-dsl",))
    outcome: list[object] = []
    with store.begin() as holding:  # one confirmation under way: the record's row (or SQLite's write lock) held
        holding.execute(update(outbox).where(outbox.c.id == outbox_id).values(status="sent", cpoms_id="100"))
        other = threading.Thread(target=lambda: outcome.append(_confirming(store, outbox_id, second)))
        other.start()
        _until_waiting(store, other)
    other.join(timeout=30)
    [refused] = outcome
    assert isinstance(refused, RefusedError) and "is sent" in str(refused)
    with store.connect() as conn:  # the held one stands for the first confirmation: the second wrote nothing
        assert [e.actor for e in audit.history(conn, "v-1") if e.action == "outbox.confirmed"] == []
        assert get_record(conn, outbox_id).cpoms_id == "100"


def _confirming(store: Store, outbox_id: int, by: StaffMember) -> object:
    try:
        return confirm(store, outbox_id, ref="100", by=by, now=NOW + timedelta(hours=1))
    except RefusedError as exc:
        return exc


def _until_waiting(store: Store, other: threading.Thread) -> None:
    """Until the other confirmation waits on the held record: on PostgreSQL, its UPDATE queued behind the row lock
    (after it read the record as still in the tray); on SQLite, its transaction queued for the write lock."""
    deadline = time.monotonic() + 30
    while other.is_alive() and time.monotonic() < deadline:
        if store.dialect != "postgresql":
            time.sleep(0.2)  # SQLite: it cannot read before the holder commits, so the order is already fixed
            return
        with store.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND query LIKE 'UPDATE outbox%'")).scalar_one():
                return
        time.sleep(0.01)


def pushed_into_the_tray(store: Store, policies: Policies) -> tuple[int, Remote]:
    """Visit v-1's record, pushed to a receiver that keeps it unmatched in its tray: its outbox id, and the receiver."""
    [outbox_id] = queue(store, policies, visit("v-1"))
    remote = Remote()
    remote.status = "tray"
    push(store, remote)
    return outbox_id, remote
