"""The visit lifecycle over a real store: the path, the gates, who may act, the code word, the audit chain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import delete, func, insert, select
from visitkit import NOW, REVIEW_WARNING, START, birchwood_request, directory, potton_request, seed_pupils  # type: ignore[import-not-found]

from hv_connector.clock import FixedClock, at_london
from hv_connector.errors import InputError, RefusedError
from hv_connector.models import VisitOutcome
from hv_connector.plugins import Policies
from hv_connector.store import Store, audit
from hv_connector.store.schema import acknowledgements, overrides, pupil_session_marks, visits
from hv_connector.store.schema import audit as audit_table
from hv_connector.visits.lifecycle import State
from hv_connector.visits.service import VisitService


def test_a_visit_goes_from_request_to_report_and_every_step_is_audited(service: VisitService, clock: FixedClock) -> None:
    asked = service.request(potton_request(), by="pt-v1")
    visit_id = asked.record.id
    assert asked.record.state is State.REQUESTED
    assert asked.record.visit.pupil.name == "Test Pupil" and asked.record.visit.pupil.attendance_3m == 92.0
    assert asked.record.visit.address == "1 Example Road, Potton, SG19 0XX"  # from the MIS when not given
    assert [m.name for m in asked.record.visit.staff] == ["Alex Visitor", "Sam Second"]

    with pytest.raises(RefusedError, match=f"cannot be authorised: 1 warning.*{REVIEW_WARNING}.*--ack"):
        service.authorise(visit_id, by="pt-head")
    authorised = service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    assert authorised.record.visit.authorised_by.name == "Jo Watts-Test"

    clock.advance(timedelta(minutes=120))
    service.sign_out(visit_id, by="pt-v1")
    clock.advance(timedelta(minutes=10))
    service.check_in(visit_id, by="pt-office", kind="office-call", note="All fine, inside with mum.")
    clock.advance(timedelta(minutes=50))
    service.return_(visit_id, by="pt-v1")
    done = service.report(visit_id, VisitOutcome(child_seen=True, child_spoken_to=True, discussion="Attendance plan."),
                          by="pt-v1")

    assert done.record.state is State.REPORTED
    assert done.record.visit.check_ins[0].kind == "office-call"
    events = service.events(visit_id)
    assert [(e.event, e.to_state) for e in events] == [
        ("request", State.REQUESTED), ("authorise", State.AUTHORISED), ("sign-out", State.SIGNED_OUT),
        ("check-in", State.SIGNED_OUT), ("return", State.RETURNED), ("report", State.REPORTED),
    ]
    assert events[2].at == START and events[1].actor == "pt-head"
    with service.store.connect() as conn:
        assert audit.verify(conn) is None
        trail = [(e.action, e.actor, e.state) for e in audit.history(conn, visit_id)]
    assert trail == [
        ("visit.request", "pt-v1", "requested"), ("visit.acknowledge", "pt-head", "authorised"),
        ("visit.authorise", "pt-head", "authorised"), ("visit.sign-out", "pt-v1", "signed-out"),
        ("visit.check-in", "pt-office", "signed-out"), ("visit.return", "pt-v1", "returned"),
        ("visit.report", "pt-v1", "reported"), ("outbox.queued", "pt-v1", None),
    ]


def test_only_the_policys_authorisers_may_authorise(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    for person in ("pt-dsl", "pt-office", "pt-v1"):
        with pytest.raises(RefusedError, match="potton's policy lets only headteacher do that"):
            service.authorise(visit_id, by=person, ack=[REVIEW_WARNING])
    with pytest.raises(InputError, match="--as: 'nobody' is not in potton's staff directory"):
        service.authorise(visit_id, by="nobody")
    assert service.get(visit_id).state is State.REQUESTED


def test_birchwood_lets_the_dsl_or_slt_authorise(service: VisitService) -> None:
    first = service.request(birchwood_request(), by="bw-pastoral").record.id
    with pytest.raises(RefusedError, match="lets only dsl or slt"):
        service.authorise(first, by="bw-office")
    assert service.authorise(first, by="bw-slt").record.state is State.AUTHORISED


def test_a_block_stops_authorisation_until_an_authoriser_overrides_it_with_a_reason(service: VisitService) -> None:
    lone = service.request(potton_request(staff=["pt-v1"]), by="pt-v1").record.id
    blocks = {f.rule_id for f in service.standing(lone).blocks()}
    assert "potton.two-staff-unless-head-agrees" in blocks
    with pytest.raises(RefusedError, match="cannot be authorised: .*block.*potton.two-staff-unless-head-agrees"):
        service.authorise(lone, by="pt-head", ack=[REVIEW_WARNING])
    with pytest.raises(RefusedError, match="may not override"):
        service.override(lone, "potton.two-staff-unless-head-agrees", by="pt-dsl", reason="Short doorstep call.")
    with pytest.raises(InputError, match="--reason"):
        service.override(lone, "potton.two-staff-unless-head-agrees", by="pt-head", reason="  ")
    with pytest.raises(InputError, match="rule: potton.code-word is not a standing block"):
        service.override(lone, "potton.code-word", by="pt-head", reason="No.")
    for rule_id in sorted(blocks):
        service.override(lone, rule_id, by="pt-head", reason="Doorstep only; office on the phone throughout.")
    assert service.authorise(lone, by="pt-head", ack=[REVIEW_WARNING]).record.state is State.AUTHORISED
    with service.store.connect() as conn:
        kept = conn.execute(select(overrides.c.rule_id, overrides.c.by, overrides.c.reason)).all()
        assert {row.rule_id for row in kept} == blocks and {row.by for row in kept} == {"pt-head"}
        assert [e.detail["rule_id"] for e in audit.history(conn, lone) if e.action == "visit.override"] == sorted(blocks)


def test_a_sign_out_block_stops_sign_out_but_not_authorisation(service: VisitService) -> None:
    visit_id = service.request(potton_request(risk_assessment={"completed_by": "pt-head"}), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    with pytest.raises(RefusedError, match="cannot be signed out: .*potton.code-word"):
        service.sign_out(visit_id, by="pt-v1")
    assert service.get(visit_id).state is State.AUTHORISED
    service.override(visit_id, "potton.code-word", by="pt-head", reason="Agreed by phone; office holds it.")
    assert service.sign_out(visit_id, by="pt-v1").record.state is State.SIGNED_OUT


def test_acknowledging_only_what_is_a_warning(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    with pytest.raises(InputError, match="rule: potton.code-word is not a warning .* its warnings: core.policy-review"):
        service.ack(visit_id, ["potton.code-word"], by="pt-head")
    service.ack(visit_id, [REVIEW_WARNING], by="pt-head", note="Review booked for January.")
    assert service.authorise(visit_id, by="pt-head").record.state is State.AUTHORISED
    with service.store.connect() as conn:
        assert conn.execute(select(acknowledgements.c.rule_id, acknowledgements.c.note)).all() == [
            (REVIEW_WARNING, "Review booked for January.")]


def test_an_illegal_step_says_the_state_who_put_it_there_and_what_is_allowed(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    with pytest.raises(RefusedError, match=f"Visit {visit_id} is requested by Alex Visitor at Mon 23 Nov 2026 08:00, "
                                           "so it cannot be signed out; allowed now: authorise, decline"):
        service.sign_out(visit_id, by="pt-v1")
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    with pytest.raises(RefusedError, match="already authorised by Jo Watts-Test at Mon 23 Nov 2026 08:00"):
        service.authorise(visit_id, by="pt-head")


def test_only_the_visiting_staff_the_office_or_an_authoriser_sign_out(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    with pytest.raises(RefusedError, match="Tam Assist .* may not sign-out"):
        service.sign_out(visit_id, by="pt-ta")
    assert service.sign_out(visit_id, by="pt-office").record.state is State.SIGNED_OUT


@pytest.mark.parametrize("finish", ["cancel", "abort"])
def test_cancel_and_abort_need_a_reason_and_end_the_visit(service: VisitService, finish: str) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    act = getattr(service, finish)
    with pytest.raises(InputError, match="--reason"):
        act(visit_id, by="pt-v1", reason="")
    done = act(visit_id, by="pt-v1", reason="Family moved away.")
    assert done.record.state is State(f"{finish}led" if finish == "cancel" else "aborted")
    assert done.record.visit.outcome.cancellation_reason == "Family moved away."
    with pytest.raises(RefusedError, match="final"):
        service.authorise(visit_id, by="pt-head")


def test_the_code_word_is_kept_apart_and_shown_only_to_the_office_or_an_authoriser(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    with service.store.connect() as conn:
        row = conn.execute(select(visits.c.data, visits.c.code_word).where(visits.c.id == visit_id)).one()
        details = conn.execute(select(audit_table.c.detail)).scalars().all()
    assert row.code_word.startswith("gAAAAA") and "bluebell" not in row.code_word  # encrypted at rest
    assert "bluebell" not in str(row.data) and "bluebell" not in str(details)
    assert service.get(visit_id).visit.risk_assessment.code_word_agreed  # the rules still see it is agreed
    with pytest.raises(RefusedError, match="may not see the code word"):
        service.reveal_code_word(visit_id, by="pt-v1")
    assert service.reveal_code_word(visit_id, by="pt-office") == "bluebell"
    with service.store.connect() as conn:
        shown = [e for e in audit.history(conn, visit_id) if e.action == "visit.code-word-shown"]
    assert [e.actor for e in shown] == ["pt-office"] and "bluebell" not in str(shown[0].detail)


def test_the_watch_marks_overdue_and_escalated_and_more_time_puts_the_visit_back_out(
        service: VisitService, clock: FixedClock) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    service.sign_out(visit_id, by="pt-v1")
    clock.advance(timedelta(hours=3, minutes=15))
    assert service.mark_overdue(visit_id).record.state is State.OVERDUE
    later = clock.now() + timedelta(minutes=30)
    with pytest.raises(InputError, match="--until"):
        service.extend(visit_id, clock.now() - timedelta(minutes=1), by="pt-v1")
    extended = service.extend(visit_id, later, by="pt-v1", note="Family meeting ran on.")
    assert (extended.record.state, extended.record.visit.expected_return) == (State.SIGNED_OUT, later)
    escalated = service.mark_escalated(visit_id, note="Code word used on the office call.")
    assert escalated.record.state is State.ESCALATED and escalated.record.visit.escalation_started_at == clock.now()
    with service.store.connect() as conn:
        assert [e.actor for e in audit.history(conn, visit_id)][-3:] == ["system:watch", "pt-v1", "system:watch"]


BAD_REQUESTS = [
    ({"school": "oak-hill"}, "school: 'oak-hill' is not a configured school"),
    ({"pupil": "Z999"}, "pupil: there is no pupil 'Z999' at potton"),
    ({"planned_start": (NOW - timedelta(days=1)).isoformat()}, "planned_start: .* is in the past"),
    ({"expected_return": (START - timedelta(minutes=5)).isoformat()}, "expected_return: .* is not after planned_start"),
    ({"staff": ["pt-v1", "ghost"]}, r"staff\[1\]: 'ghost' is not in potton's staff directory"),
    ({"reason": "shopping"}, "reason: 'shopping' is not one of potton's reasons"),
    ({"risk_assessment": {"completed_by": "ghost"}}, "risk_assessment.completed_by: 'ghost' is not in potton's"),
    ({"authorised_by": "pt-head"}, "authorised_by: set by hv-connector"),
    ({"travel": "rocket"}, "travel: Input should be"),
]


@pytest.mark.parametrize(("change", "message"), BAD_REQUESTS, ids=[m.split(":")[0] for _, m in BAD_REQUESTS])
def test_a_bad_request_names_the_field_and_writes_nothing(service: VisitService, change: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        service.request(potton_request(**change), by="pt-v1")
    with service.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(visits)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(audit_table)).scalar_one() == 0


def test_a_past_visit_can_be_recorded_and_a_new_family_needs_no_mis_record(service: VisitService) -> None:
    past = potton_request(planned_start=(NOW - timedelta(days=1)).isoformat(),
                          expected_return=(NOW - timedelta(days=1) + timedelta(hours=1)).isoformat(),
                          record_of_past_visit=True)
    assert service.request(past, by="pt-v1").record.visit.record_of_past_visit
    new = service.request(potton_request(pupil={"name": "Ana Newstart"}, new_family=True,
                                         address="9 New Road, Potton"), by="pt-v1")
    assert (new.record.visit.pupil.name, new.record.visit.pupil.known_in_mis) == ("Ana Newstart", False)


def test_just_after_midnight_in_summer_the_attendance_counts_the_london_day(service: VisitService,
                                                                           clock: FixedClock) -> None:
    clock.set(datetime(2026, 6, 15, 23, 30, tzinfo=timezone.utc))  # 00:30 BST on Tuesday 16 June
    with service.store.begin() as conn:  # the register so far holds one absence, on the 16th
        conn.execute(insert(pupil_session_marks).values(school_id="potton", pupil_mis_id="A1000000001",
                                                        day=date(2026, 6, 16), session="AM", code="O",
                                                        meaning="unauthorised"))
        conn.execute(delete(pupil_session_marks).where(pupil_session_marks.c.day != date(2026, 6, 16)))
    start = at_london(date(2026, 6, 16), time(10, 0))
    asked = service.request(potton_request(planned_start=start.isoformat(),
                                           expected_return=(start + timedelta(hours=1)).isoformat(),
                                           background_shown_at=clock.now().isoformat()), by="pt-v1")
    assert asked.record.visit.pupil.attendance_3m == 0.0  # not "not available", as it was on the UTC date


class InterruptingClock(FixedClock):
    """A fixed clock that, the first time it is read, lets someone else act first (in their own transaction)."""

    def __init__(self, start: datetime, interrupt: Callable[[], object]) -> None:
        super().__init__(start)
        self._interrupt: Callable[[], object] | None = interrupt

    def now(self) -> datetime:
        interrupt, self._interrupt = self._interrupt, None
        if interrupt is not None:
            interrupt()
        return super().now()


def test_an_update_lost_between_read_and_write_is_retried_and_refused_naming_the_winner(
        postgres_url: str, policies: Policies) -> None:
    # PostgreSQL only: SQLite's write transactions hold the lock from their first statement, so
    # there the second authoriser simply waits its turn (the two-process test shows that).
    with Store.open(postgres_url, upgrade=True) as store:
        seed_pupils(store)
        plain = VisitService(store=store, policies=policies, directory=directory(), clock=FixedClock(NOW))
        visit_id = plain.request(birchwood_request(), by="bw-pastoral").record.id
        clock = InterruptingClock(NOW, lambda: plain.authorise(visit_id, by="bw-slt"))
        racing = VisitService(store=store, policies=policies, directory=directory(), clock=clock)
        with pytest.raises(RefusedError, match=f"Visit {visit_id} was already authorised by Ben Senior at Mon 23 Nov 2026 08:00"):
            racing.authorise(visit_id, by="bw-dsl")
        assert plain.get(visit_id).visit.authorised_by.name == "Ben Senior"
        assert [e.actor for e in plain.events(visit_id)] == ["bw-pastoral", "bw-slt"]


def test_a_note_or_report_that_spells_out_the_code_word_is_refused_and_nothing_is_written(
        service: VisitService, clock: FixedClock) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    clock.advance(timedelta(minutes=120))
    service.sign_out(visit_id, by="pt-v1")
    before = service.get(visit_id).version
    with pytest.raises(InputError, match="note: it contains the visit's code word.*--code-word-used"):
        service.check_in(visit_id, by="pt-office", kind="office-call", code_word_used=True,
                         note="She said Bluebell twice, then hung up")
    assert service.get(visit_id).version == before
    service.check_in(visit_id, by="pt-office", kind="office-call", code_word_used=True, note="Call cut short")
    service.return_(visit_id, by="pt-v1")
    with pytest.raises(InputError, match="discussion: it contains the visit's code word"):
        service.report(visit_id, VisitOutcome(child_seen=True, discussion="Used bluebell at the door."), by="pt-v1")
    assert service.report(visit_id, VisitOutcome(child_seen=True, discussion="Bluebells in the garden."),
                          by="pt-v1").record.state is State.REPORTED
