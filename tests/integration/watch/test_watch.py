"""The watch over a real store: each event fires once, in order, visits move on, people are told."""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, Recorder, add_visits, make_watch, visit_document

from hv_connector.clock import FixedClock, local
from hv_connector.errors import InputError, RefusedError
from hv_connector.store import Store
from hv_connector.store.schema import (
    audit,
    escalations,
    notifications,
    visit_events,
    visits,
    watch_queue,
)
from hv_connector.watch.escalations import Escalations


def state(store: Store, visit_id: str) -> str:
    with store.connect() as conn:
        return conn.execute(select(visits.c.state).where(visits.c.id == visit_id)).scalar_one()


def fired(store: Store, visit_id: str | None = None) -> list[tuple[str, int, str, str | None]]:
    """(kind, step, London time due, closed?) of each escalation row, in the order fired."""
    query = select(escalations).order_by(escalations.c.id)
    if visit_id is not None:
        query = query.where(escalations.c.visit_id == visit_id)
    with store.connect() as conn:
        return [(r.kind, r.step_index, local(r.due_at).strftime("%H:%M"), r.note) for r in conn.execute(query)]


def run(watch, clock: FixedClock, until_minutes: int, every: int = 5) -> None:
    """Tick from 09:40 to START + ``until_minutes``, every ``every`` minutes."""
    clock.set(START - timedelta(minutes=20))
    while clock.now() <= START + timedelta(minutes=until_minutes):
        watch.tick()
        clock.advance(timedelta(minutes=every))


def test_an_overdue_visit_walks_pottons_chain_once_and_moves_to_escalated(store: Store) -> None:
    clock = FixedClock(START - timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    clock.set(START + timedelta(minutes=9))
    watch.service.check_in("V1", by="pt-office", kind="office-call")  # Potton's 10-minute call, made
    run(watch, clock, until_minutes=60)
    assert state(store, "V1") == "signed-out"
    assert [k for k, *_ in fired(store)] == ["checkin-reminder"]  # 10:55: phone as you leave
    run(watch, clock, until_minutes=180, every=7)  # a cron every 7 minutes, from the start again
    assert fired(store) == [
        ("checkin-reminder", 0, "10:55", "reminder sent"),
        ("overdue", 0, "11:10", None),
        ("overdue", 1, "11:20", None),
        ("overdue", 2, "11:35", None),
        ("chain-exhausted", 3, "11:50", None),
    ]
    assert state(store, "V1") == "escalated"
    with store.connect() as conn:
        actions = conn.execute(select(audit.c.action).where(audit.c.visit_id == "V1").order_by(audit.c.seq)).scalars().all()
        sent = conn.execute(select(notifications.c.notifier, notifications.c.status)).all()
    assert actions.count("escalation.fired") == 4  # the chain's steps; the reminder is in escalations only
    assert "visit.mark-overdue" in actions and "visit.mark-escalated" in actions
    assert sorted(set(sent)) == [("log", "sent"), ("store", "sent")]


def test_a_missed_office_call_starts_the_chain_and_a_late_call_stands_it_down(store: Store) -> None:
    clock = FixedClock(START)
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    clock.set(START + timedelta(minutes=20))
    result = watch.tick()
    assert [(e.kind, e.step_index) for e in result.fired] == [("checkin-missed", 0)]
    assert result.moved == [("V1", "overdue")]
    clock.advance(timedelta(minutes=3))
    watch.service.check_in("V1", by="pt-office", kind="office-call", note="all fine, running late")
    watch.tick()
    assert fired(store) == [("checkin-missed", 0, "10:20", "check-in received")]


def test_the_code_word_reaches_the_emergency_step_and_says_nothing_of_the_word(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=9))
    recorder = Recorder()
    watch = make_watch(store, clock, notifiers=[recorder])
    add_visits(store, [visit_document("V1")])
    watch.tick()
    watch.service.check_in("V1", by="pt-office", kind="office-call", code_word_used=True)
    result = watch.tick()
    assert [(e.kind, e.step_index) for e in result.fired] == [("code-word", 2)]
    assert state(store, "V1") == "escalated"
    assert recorder.sent[-1:] == [(result.fired[0].key, "code-word", "07700 900101")]  # the headteacher's mobile
    with store.connect() as conn:
        message = conn.execute(select(escalations.c.message).where(escalations.c.kind == "code-word")).scalar_one()
        trail = " ".join(str(d) for d in conn.execute(select(audit.c.detail)).scalars())
    assert message.startswith("Priority call-back requested for Alex Visitor and Sam Second — follow the emergency step")
    assert "bluebell" not in message + trail and "code word" not in message.lower()


def test_staff_back_close_the_alarm_and_the_visit_leaves_the_queue(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    watch.tick()
    clock.advance(timedelta(minutes=5))
    watch.service.return_("V1", by="pt-office")
    result = watch.tick()
    assert result.closed == 1
    assert fired(store) == [("checkin-missed", 0, "10:20", "staff back at 10:25 GMT")]
    clock.advance(timedelta(hours=3))
    assert watch.tick().fired == []
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(watch_queue)).scalar_one() == 0


def test_a_visit_ended_early_has_its_open_alarms_closed_and_the_others_keep_theirs(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1"), visit_document("V2"), visit_document("V3")])
    watch.tick()
    clock.advance(timedelta(minutes=5))
    for visit_id in ("V1", "V3"):
        watch.service.abort(visit_id, by="pt-office", reason="Pupil not at home")
    watch.tick()
    assert fired(store, "V1") == fired(store, "V3") == [("checkin-missed", 0, "10:20", "visit aborted")]
    assert fired(store, "V2") == [("checkin-missed", 0, "10:20", None)]
    with store.connect() as conn:
        assert set(conn.execute(select(watch_queue.c.visit_id)).scalars()) == {"V2"}


def test_a_failing_notifier_is_retried_and_reported_and_the_escalation_stands(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    flaky = Recorder(failures=2)
    watch = make_watch(store, clock, notifiers=[flaky])
    add_visits(store, [visit_document("V1")])
    first = watch.tick()
    assert len(first.fired) == 1 and first.delivered == 0
    assert first.failures == [(f"recorder to 07700 900104 (escalation {first.fired[0].id}): "
                               "ConnectionError: gateway down; will retry")]
    clock.advance(timedelta(seconds=30))
    assert watch.tick().failures and fired(store) == [("checkin-missed", 0, "10:20", None)]
    clock.advance(timedelta(seconds=30))
    third = watch.tick()
    assert (third.delivered, third.failures, third.fired) == (1, [], [])
    with store.connect() as conn:
        row = conn.execute(select(notifications.c.status, notifications.c.attempts)).one()
    assert tuple(row) == ("sent", 3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_thousand_visits_out_at_once_each_reminded_once_and_the_silent_ones_escalated(store: Store) -> None:
    called = [{"at": (START + timedelta(minutes=9)).isoformat(), "kind": "office-call"}]
    add_visits(store, [visit_document(f"V{n:04d}", check_ins=[] if n % 10 == 0 else called) for n in range(1000)])
    clock = FixedClock(START + timedelta(minutes=56))  # the watch was down since 10:00: catch up at 10:56
    watch = make_watch(store, clock)
    result = watch.tick()
    reminded = [e.visit_id for e in result.fired if e.kind == "checkin-reminder"]
    chain = [(e.visit_id, e.step_index) for e in result.fired if e.kind == "checkin-missed"]
    assert len(reminded) == len(set(reminded)) == 1000  # 10:55: phone the office as you leave
    silent = [f"V{n:04d}" for n in range(0, 1000, 10)]  # no office call: the chain ran 10:20, 10:30, 10:45
    assert chain == [(v, step) for v in silent for step in (0, 1, 2)]
    assert sorted(result.moved) == [(v, "escalated") for v in silent]
    assert result.failures == [] and result.delivered == 2 * len(result.fired)
    again = watch.tick()
    assert (again.fired, again.checked) == ([], 0)  # nothing twice, nothing to look at until 11:00


def test_a_visit_whose_policy_cannot_answer_is_watched_on_the_core_chain_reported_and_the_others_still_escalate(
        store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1"), visit_document("V2", school="nowhere")])
    result = watch.tick()
    assert ("V1", "checkin-missed") in [(e.visit_id, e.kind) for e in result.fired]
    assert "V2" in {e.visit_id for e in result.fired}  # staff out for a school with no readable policy are still watched
    assert len(result.failures) == 1
    assert result.failures[0].startswith("visit V2 (nowhere) is watched with the core's default chain: "
                                         "its policy could not be read (PolicyNotFound")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # explicit ids would upset PostgreSQL's sequence
def test_a_change_committed_late_under_a_lower_id_is_still_seen(store: Store) -> None:
    # On PostgreSQL a transaction may commit visit_events id N after the watch has read N+1: simulated here.
    clock = FixedClock(START + timedelta(minutes=5))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1"), visit_document("V2")])
    watch.tick()
    with store.begin() as conn:
        top = conn.execute(select(func.max(visit_events.c.id))).scalar_one()
        conn.execute(visit_events.insert().values(id=top + 2, visit_id="V1", at=clock.now(), actor="pt-office",
                                                  event="note"))
    watch.tick()  # reads id top+2; top+1 is missing for now
    watch.service.check_in("V2", by="pt-office", kind="office-call", code_word_used=True)
    with store.begin() as conn:  # ...and this check-in's row is the one that committed late, as top+1
        conn.execute(update(visit_events).where(visit_events.c.id == top + 3).values(id=top + 1))
    assert [(e.visit_id, e.kind) for e in watch.tick().fired] == [("V2", "code-word")]


def test_the_live_board_shows_who_is_out_where_when_due_and_the_step_reached(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=9))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("CALM"), visit_document("LATE", back=timedelta(minutes=30))])
    watch.service.check_in("CALM", by="pt-office", kind="office-call")
    watch.service.check_in("LATE", by="pt-office", kind="office-call")
    clock.set(START + timedelta(minutes=45))
    watch.tick()
    board = Escalations(watch).board()
    assert [(r.visit_id, r.state, r.overdue) for r in board] == [("LATE", "overdue", True), ("CALM", "signed-out", False)]
    late, calm = board
    assert late.staff == "Alex Visitor and Sam Second" and late.address == "1 Example Road, Testtown, TT1 1AA"
    assert (late.escalation.kind, late.escalation.step_index, late.escalation.who) == ("overdue", 0, ("office",))
    assert calm.escalation is None
    assert (local(calm.next_check_in).strftime("%H:%M"), calm.next_check_in_what) == (
        "11:00", "Phone the office as you leave the home and say whether there are any concerns.")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_people_are_refused_what_makes_no_sense_and_told_why(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=6))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    reminder = watch.tick().fired[0]
    desk = Escalations(watch)
    with pytest.raises(RefusedError, match="escalation 1 is closed \\(reminder sent\\); nothing to acknowledge"):
        desk.ack(reminder.id, by="pt-office")
    with pytest.raises(RefusedError, match="visit V1 has no running escalation with a step left to take"):
        desk.escalate_now(reminder.id, by="pt-office")
    with pytest.raises(RefusedError, match="visit V1 has no open escalation to stand down"):
        desk.stand_down("V1", by="pt-office")
    clock.set(START + timedelta(minutes=20))
    alarm = watch.tick().fired[0]
    with pytest.raises(RefusedError, match="Sam Second is on visit V1 and cannot stand down their own alarm"):
        desk.stand_down("V1", by="s2")
    with pytest.raises(InputError, match="'pt-nobody' is not in potton's staff directory"):
        desk.ack(alarm.id, by="pt-nobody")
    assert desk.escalate_now(alarm.id, by="s1").step_index == 1  # staff out may call for help themselves


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_two_people_taking_one_alarm_at_the_same_instant_one_wins_and_the_other_is_told(store: Store) -> None:
    clock = FixedClock(START + timedelta(minutes=20))
    watch = make_watch(store, clock)
    add_visits(store, [visit_document("V1")])
    alarm = watch.tick().fired[0].id
    outcomes: dict[str, str] = {}

    def take(by: str) -> None:
        try:
            outcomes[by] = Escalations(watch).ack(alarm, by=by, note=f"{by} phoning").acknowledged_by or ""
        except RefusedError as exc:
            outcomes[by] = str(exc)

    # Sessions waiting, directly or behind another waiter, on the holder's lock (other tests share the server).
    waiting = text("WITH RECURSIVE behind(pid) AS (SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"
                   " UNION SELECT a.pid FROM pg_stat_activity a JOIN behind b ON b.pid = ANY(pg_blocking_pids(a.pid)))"
                   " SELECT count(*) FROM behind")
    with store.engine.connect() as holder, store.engine.connect() as looker:
        looker = looker.execution_options(isolation_level="AUTOCOMMIT")  # a fresh view of pg_stat_activity each time
        # Hold the row, so both people read it unacknowledged and then both try to write.
        holder.execute(select(escalations.c.id).where(escalations.c.id == alarm).with_for_update())
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        people = [threading.Thread(target=take, args=(by,)) for by in ("pt-office", "pt-head")]
        for person in people:
            person.start()
        deadline = time.monotonic() + 20
        while looker.execute(waiting, {"holder": holder_pid}).scalar_one() < 2:
            assert time.monotonic() < deadline, f"both acknowledgements should be waiting on the row: {outcomes}"
        holder.rollback()
    for person in people:
        person.join(timeout=20)
    winners = [by for by, said in outcomes.items() if said == by]
    assert len(winners) == 1, outcomes
    loser = "pt-head" if winners == ["pt-office"] else "pt-office"
    assert outcomes[loser] == (f"escalation {alarm} was acknowledged by someone else just now: "
                               "`hvc escalation list` shows who")
    assert Escalations(watch).get(alarm).acknowledged_by == winners[0]
