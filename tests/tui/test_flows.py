"""Each flow of the dashboard, driven with the Pilot against a real store: what lands in the store,
what the person is told, and what the screens post."""

from __future__ import annotations

import stat
from datetime import date, datetime, timedelta, timezone

from dashkit import CODE_WORD_BLOCK, INJECTION, REVIEW_WARNING, World, request
from pilotkit import dashboard, fill
from sqlalchemy import delete, insert, select, update
from textual.widgets import Checkbox, Collapsible, Input, Label, OptionList, SelectionList, Static, TextArea
from textual.widgets._collapsible import CollapsibleTitle

from hv_connector.store import audit as audit_log
from hv_connector.store.schema import (
    acknowledgements,
    audit,
    escalations,
    outbox,
    overrides,
    pupil_attendance,
    pupil_session_marks,
    visit_events,
    visits,
)
from hvc_tui.dialogs.check_in import CheckInDialog
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.extend import ExtendDialog
from hvc_tui.dialogs.found import FoundDialog
from hvc_tui.dialogs.override import OverrideDialog
from hvc_tui.messages import (
    EscalationActed,
    FindingsPreviewed,
    OutboxConfirmed,
    OutboxRetried,
    OutboxTwiceChecked,
    Printed,
    PupilsFound,
    VisitActed,
)
from hvc_tui.screens.outbox_record import OutboxRecordScreen
from hvc_tui.screens.report import ReportScreen
from hvc_tui.screens.request import RequestScreen
from hvc_tui.screens.visit import VisitScreen
from hvc_tui.widgets.stable_table import StableTable


def _state(world: World, visit_id: str) -> str:
    with world.store.connect() as conn:
        return conn.execute(select(visits.c.state).where(visits.c.id == visit_id)).scalar_one()


async def test_authorise_with_the_warning_acknowledged(world: World) -> None:
    visit_id = world.ids["warned"]
    async with dashboard(world) as run:
        await run.press("enter")  # the first pending row: the soonest, lowest id
        assert isinstance(run.app.screen, VisitScreen) and run.app.screen.visit_id == visit_id
        dialog = await run.opens("a", DecisionDialog)
        assert [f.rule_id for f in dialog.warnings] == [REVIEW_WARNING]
        await run.pilot.press("space", "tab", *"Review in Dec")  # tick the warning, then write the note
        await run.press("ctrl+s")
        acted = run.posted(VisitActed)
    assert [m.result.event for m in acted] == ["authorise"]
    assert _state(world, visit_id) == "authorised"
    with world.store.connect() as conn:
        row = conn.execute(select(acknowledgements).where(acknowledgements.c.visit_id == visit_id)).one()
    assert (row.rule_id, row.by, row.note) == (REVIEW_WARNING, "pt-head", "Review in Dec")


async def test_override_a_block_needs_a_reason(world: World) -> None:
    visit_id = world.ids["blocked"]
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        dialog = await run.opens("v", OverrideDialog)
        assert [f.rule_id for f in dialog.blocks] == [CODE_WORD_BLOCK]
        await run.press("space")  # ticked: its reason box opens
        await run.press("ctrl+s")  # no reason yet: the dialog stays, and says why
        assert run.app.screen is dialog
        assert "each ticked block needs its own reason" in str(dialog.query_one("#problem").render())
        await run.pilot.press(*"Agreed by phone")
        await run.press("ctrl+s")
        assert isinstance(run.app.screen, VisitScreen)
    with world.store.connect() as conn:
        row = conn.execute(select(overrides).where(overrides.c.visit_id == visit_id)).one()
    assert (row.rule_id, row.by) == (CODE_WORD_BLOCK, "pt-head")
    assert row.reason == "Agreed by phone"


async def test_a_non_authoriser_is_refused_as_the_cli_refuses(world: World) -> None:
    visit_id = world.ids["warned"]
    async with dashboard(world, actor="pt-dsl") as run:
        await run.open_visit(visit_id)
        await run.press("a")
        await run.press("space", "ctrl+s")
        errors = run.notices("error")
        assert not run.posted(VisitActed)
    assert len(errors) == 1 and "Dev Safeguard (pt-dsl) may not authorise" in errors[0] and "headteacher" in errors[0]
    assert _state(world, visit_id) == "requested"


async def _fill_request(run) -> RequestScreen:
    """Open the request form and fill its main fields for Zoë D'Arcy, found by typing part of her name."""
    form = await run.opens("n", RequestScreen)
    form.query_one("#pupil-search", Input).focus()
    await run.pilot.press(*"zoë")
    await run.settle()
    assert [h.mis_id for h in run.posted(PupilsFound)[-1].hits] == ["A1000000002"]
    form.query_one("#pupil-hits", OptionList).focus()
    await run.press("down", "enter")
    fill(form, {"reason": "persistent-absence", "purpose": "Agree an attendance plan"})
    for staff_id in ("pt-v1", "pt-v2"):
        form.query_one("#staff", SelectionList).select(staff_id)
    fill(form, {"parents_informed": True, "parent_agreement": True, "logged_with_office": True, "code_word": "bluebell"})
    await run.settle()
    return form


async def test_request_a_visit_through_the_form(world: World) -> None:
    async with dashboard(world) as run:
        previews_before = len(run.posted(FindingsPreviewed))
        await _fill_request(run)
        assert len(run.posted(FindingsPreviewed)) > previews_before  # the findings follow the fields
        assert run.posted(FindingsPreviewed)[-1].preview.problem is None
        await run.press("ctrl+s")
        acted = run.posted(VisitActed)
        warned = run.notices("warning")
    assert len(acted) == 1
    # Ash and Sky are out on other visits of the world: the request goes in, and the person is told at once.
    assert any("Ash Visitor is already out on" in line for line in acted[0].busy)
    assert len(warned) == 1 and "Request sent" not in warned[0] and "Ash Visitor is already out on" in warned[0]
    record = acted[0].result.record
    assert (record.state.value, record.visit.pupil.mis_id, record.visit.reason) == (
        "requested", "A1000000002", "persistent-absence")
    assert [m.id for m in record.visit.staff] == ["pt-v1", "pt-v2"]
    assert _state(world, record.id) == "requested"


async def test_a_refused_request_keeps_everything_typed(world: World) -> None:
    async with dashboard(world) as run:
        form = await run.opens("n", RequestScreen)
        form.query_one("#purpose", Input).value = "Agree an attendance plan"
        form.query_one("#code_word", Input).value = "bluebell"
        await run.press("ctrl+s")  # no reason, no pupil
        assert isinstance(run.app.screen, RequestScreen)
        assert form.query_one("#purpose", Input).value == "Agree an attendance plan"
        assert form.query_one("#code_word", Input).value == "bluebell"
        errors = run.notices("error")
    assert len(errors) == 1 and errors[0].startswith("reason:")
    with world.store.connect() as conn:
        assert conn.execute(select(visits.c.id).where(visits.c.state == "requested")).scalars().all() == [
            world.ids["warned"], world.ids["blocked"]]


async def test_record_a_report_feeds_the_cpoms_record(world: World) -> None:
    visit_id = world.ids["returned"]
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        form = await run.opens("w", ReportScreen)
        fill(form, {"arrived_at": "10:05", "departed_at": "10:40",
                    "present": "Ann Example (mother); Bo Example (brother)", "child_seen": True,
                    "child_words": "I want to come back on Monday.",
                    "agreements": "Mum brings her in on Monday\nWeekly call on Fridays",
                    "action_points": "Office to call on Friday"})
        await run.press("ctrl+s")
        acted = run.posted(VisitActed)
        assert isinstance(run.app.screen, VisitScreen)
    outcome = acted[0].result.record.visit.outcome
    assert outcome.child_seen and outcome.child_words == "I want to come back on Monday."
    assert [p.name for p in outcome.persons_present] == ["Ann Example", "Bo Example"]
    assert outcome.agreements == ("Mum brings her in on Monday", "Weekly call on Fridays")
    assert _state(world, visit_id) == "reported"
    with world.store.connect() as conn:
        payload = conn.execute(select(outbox.c.payload).where(outbox.c.visit_id == visit_id)).scalar_one()
    assert "I want to come back on Monday." in str(payload)


async def test_a_report_that_cannot_be_read_keeps_the_form(world: World) -> None:
    async with dashboard(world) as run:
        await run.open_visit(world.ids["returned"])
        form = await run.opens("w", ReportScreen)
        form.query_one("#arrived_at", Input).value = "ten past"
        form.query_one("#child_words", TextArea).text = "Hello"
        await run.press("ctrl+s")
        assert run.app.screen is form and form.query_one("#child_words", TextArea).text == "Hello"
        assert run.notices("error")[0].startswith("arrived: 'ten past' is not a time")
    assert _state(world, world.ids["returned"]) == "returned"


async def test_acknowledge_and_advance_an_escalation(world: World) -> None:
    visit_id = world.ids["overdue"]
    async with dashboard(world, mode="board") as run:
        assert run.app.screen.query_one("#board").get_row_at(0)[-1].plain == visit_id  # most urgent first
        await run.press("k")
        await run.pilot.press(*"No answer")
        await run.press("ctrl+s")
        await run.press("e")
        await run.press("y")
        acted = [m.what for m in run.posted(EscalationActed)]
    assert acted == [f"Step 1 on {visit_id} acknowledged.", f"Next step fired on {visit_id}."]
    with world.store.connect() as conn:
        steps = conn.execute(select(escalations.c.step_index, escalations.c.acknowledged_by, escalations.c.note)
                             .where(escalations.c.visit_id == visit_id).order_by(escalations.c.id)).all()
    assert [tuple(s) for s in steps] == [(0, "pt-head", "No answer"), (1, None, None)]


async def test_retry_a_parked_record(world: World) -> None:
    async with dashboard(world, mode="outbox") as run:
        await run.press("t", "y")
        retried = run.posted(OutboxRetried)
    assert [m.record.visit_id for m in retried] == [world.ids["reported"]]
    with world.store.connect() as conn:
        assert conn.execute(select(outbox.c.status).where(outbox.c.visit_id == world.ids["reported"])
                            ).scalars().all() == ["pending"]


async def test_confirm_a_record_entered_in_cpoms_by_hand(world: World) -> None:
    with world.store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.visit_id == world.ids["reported"]).values(
            status="awaiting-entry", last_error=None))
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        await run.press("c")
        await run.pilot.press(*"10422")
        await run.press("ctrl+s")
        confirmed = run.posted(OutboxConfirmed)
    assert [(m.record.visit_id, m.record.cpoms_id) for m in confirmed] == [(world.ids["reported"], "10422")]
    with world.store.connect() as conn:
        assert conn.execute(select(outbox.c.status).where(outbox.c.visit_id == world.ids["reported"])
                            ).scalars().all() == ["sent"]
        [entry] = [e for e in audit_log.history(conn, world.ids["reported"]) if e.action == "outbox.confirmed"]
    assert (entry.actor, entry.detail["confirmed_by"]) == ("pt-dsl", "Dev Safeguard")


async def test_a_record_in_cpoms_tray_shows_whom_to_attach_it_to_and_is_confirmed_as_attached(world: World) -> None:
    with world.store.begin() as conn:
        [record_id] = conn.execute(update(outbox).where(outbox.c.visit_id == world.ids["reported"]).values(
            status="in-tray", cpoms_id="5001", last_error=None).returning(outbox.c.id)).scalars()
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        said = str(run.app.screen.query_one(StableTable).get_row(str(record_id))[-1])
        assert said.startswith("in CPOMS's Incident Tray as incident 5001: attach it to ")
        await run.press("c")
        assert run.app.screen.heading == f"Record {record_id} attached to the pupil in CPOMS"
        await run.pilot.press(*"5001")
        await run.press("ctrl+s")
        confirmed = run.posted(OutboxConfirmed)
    assert [(m.record.visit_id, m.record.cpoms_id) for m in confirmed] == [(world.ids["reported"], "5001")]
    with world.store.connect() as conn:
        [entry] = [e for e in audit_log.history(conn, world.ids["reported"]) if e.action == "outbox.confirmed"]
    assert (entry.actor, entry.detail["attached"]) == ("pt-dsl", True)


DOUBT = "CPOMS may now hold record [bold]v-9[/bold] twice"
"""A receiver's doubt, in words that would be markup: shown as written."""


def sent_unsure(world: World, doubt: str = DOUBT) -> int:
    """Mark the reported visit's record sent as CPOMS record 41, with ``doubt``: it may be in CPOMS twice."""
    with world.store.begin() as conn:
        [record_id] = conn.execute(update(outbox).where(outbox.c.visit_id == world.ids["reported"]).values(
            status="sent", cpoms_id="41", sent_at=world.clock.now(), last_error=None, doubt=doubt,
        ).returning(outbox.c.id)).scalars()
    return record_id


async def test_a_record_that_may_be_in_cpoms_twice_is_marked_to_check_in_the_sent_list_and_opened_whole(
        world: World) -> None:
    doubt = DOUBT
    record_id = sent_unsure(world)
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        await run.press("a")
        row = [cell.plain for cell in run.app.screen.query_one(StableTable).get_row(str(record_id))]
        status = str(run.app.screen.query_one("#status").render())
        record = await run.opens("enter", OutboxRecordScreen)
        facts = str(record.query_one("#facts").render())
    assert (row[0], row[-1]) == ("⚠ sent, twice?", f"may be in CPOMS twice: check CPOMS and merge the copies: {doubt}")
    assert "1 of them may be in CPOMS twice: check CPOMS and merge the copies" in status
    assert f"It may be in CPOMS twice: check CPOMS and merge the copies: {doubt}" in facts


async def test_a_record_in_cpoms_tray_that_may_be_there_twice_says_so_in_the_waiting_list(world: World) -> None:
    with world.store.begin() as conn:
        [record_id] = conn.execute(update(outbox).where(outbox.c.visit_id == world.ids["reported"]).values(
            status="in-tray", cpoms_id="5001", last_error=None, doubt=DOUBT).returning(outbox.c.id)).scalars()
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        said = run.app.screen.query_one(StableTable).get_row(str(record_id))[-1].plain
    # Whoever attaches it from the tray must know to look there for a second copy.
    assert said.startswith("in CPOMS's Incident Tray as incident 5001: attach it to ")
    assert said.endswith(f"; may be in CPOMS twice: check CPOMS and merge the copies: {DOUBT}")


async def test_a_record_that_may_be_in_cpoms_twice_stays_in_the_sent_list_however_many_are_sent_after_it(
        world: World) -> None:
    record_id = sent_unsure(world)
    with world.store.begin() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == record_id)).one()._asdict()
        later = world.clock.now() + timedelta(minutes=1)
        conn.execute(insert(outbox), [{**row, "id": None, "doubt": None, "idempotency_key": f"later-{n}",
                                       "cpoms_id": str(100 + n), "created_at": later, "sent_at": later}
                                      for n in range(60)])  # a busy week: more sent since than the list holds
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        await run.press("a")
        table = run.app.screen.query_one(StableTable)
        shown = [key.value for key in table.rows]
        row_shown = [cell.plain for cell in table.get_row(str(record_id))] if str(record_id) in shown else []
        status = str(run.app.screen.query_one("#status").render())
    assert row_shown[:1] == ["⚠ sent, twice?"]  # still there for the DSL team to check, not pushed off the page
    assert "1 of them may be in CPOMS twice" in status


async def test_the_dsl_team_says_what_cpoms_held_of_a_record_that_may_be_there_twice_picking_one_answer(
        world: World) -> None:
    # A doubt stored raw (by an older version, or a row edited by hand): the dialog measures it as it shows.
    record_id = sent_unsure(world, "\x1b[31mCPOMS dropped the answer")
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        await run.press("a")
        record = await run.opens("enter", OutboxRecordScreen)
        offered = record.check_action("checked", ())
        dialog = await run.opens("k", FoundDialog)
        shown = dialog.query_one("#doubt", Label).render()
        await run.press("enter")  # nothing picked for the person, and a habitual Enter picks nothing
        await run.press("ctrl+s")
        assert run.app.screen is dialog and "nothing is picked yet" in str(dialog.query_one("#problem").render())
        await run.press("escape")
        assert run.app.screen is record and run.posted(OutboxTwiceChecked) == []
        await run.opens("k", FoundDialog)
        await run.press("down", "space", "ctrl+s")  # the second answer: two, merged
        [checked] = run.posted(OutboxTwiceChecked)
        facts = str(record.query_one("#facts").render())
        offered_after = record.check_action("checked", ())
        await run.press("escape")
        row = [cell.plain for cell in run.app.screen.query_one(StableTable).get_row(str(record_id))]
        notices = run.notices()
    with world.store.connect() as conn:
        [entry] = [e for e in audit_log.history(conn, world.ids["reported"]) if e.action == "outbox.twice-checked"]
    said = checked.record.checked
    assert (offered, offered_after) == (True, False)
    assert str(shown) == "\\x1b[31mCPOMS dropped the answer"
    assert (checked.record.id, checked.record.doubt_found) == (record_id, "two")
    assert said is not None and said.endswith(": two copies, the extra one merged")
    assert (entry.actor, entry.detail["found"]) == ("pt-dsl", "two")
    assert f"Record {record_id} is {said}." in notices
    assert f"It might have been in CPOMS twice (\\x1b[31mCPOMS dropped the answer): {said}" in facts
    assert (row[0], row[-1]) == ("✔ sent", said)  # no longer marked to check in the sent list


async def test_a_record_sent_once_offers_no_check_in_cpoms(world: World) -> None:
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        record = await run.opens("enter", OutboxRecordScreen)
        await run.press("k")
        assert run.app.screen is record and not record.check_action("checked", ())


async def test_retrying_a_record_in_cpoms_tray_says_to_confirm_it_not_to_wait_for_the_push(world: World) -> None:
    with world.store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.visit_id == world.ids["reported"]).values(
            status="in-tray", cpoms_id="5001", last_error=None))
    async with dashboard(world, actor="pt-dsl", mode="outbox") as run:
        await run.press("t")
        [refused] = run.notices("warning")
    # A record in the tray never goes with a push: only confirming it (c) ends it.
    assert "next push" not in refused and "(c)" in refused


async def test_the_board_keeps_the_selected_row_when_it_refreshes(world: World) -> None:
    async with dashboard(world, mode="board") as run:
        table = run.app.screen.query_one("#board")
        await run.press("down")
        assert table.selected_key == world.ids["out"]
        world.clock.set(world.clock.now().replace(minute=50))
        await run.press("f5")
        assert table.selected_key == world.ids["out"]
        assert "OVERDUE 25m" in table.get_row_at(0)[0].plain  # the refresh repainted the rows


async def test_mis_text_is_shown_as_written(world: World) -> None:
    async with dashboard(world) as run:
        table = run.app.screen.query_one("#pending")
        pupils = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        address = table.get_row_at(1)[6].plain
        screen = run.app.export_screenshot()
        await run.open_visit(world.ids["blocked"])
        summary = run.app.screen.query_one("#summary").render()
    assert INJECTION in pupils and address.startswith("[link=https://bad.example]")
    assert ">&#160;[bold&#160;red]Test[/]&#160;<" in screen  # the cell, as written, unstyled
    assert INJECTION in str(summary)


async def test_stand_down_closes_every_open_step(world: World) -> None:
    visit_id = world.ids["overdue"]
    async with dashboard(world, mode="board") as run:
        await run.press("x")
        await run.press("y")
        assert [m.what for m in run.posted(EscalationActed)] == [f"Stood down: {visit_id} staff safe."]
        row = run.app.screen.query_one("#board").get_row_at(0)
        assert row[5].plain == "—" and "ESCALATED" not in row[0].plain  # no open step, no "ESCALATED" left
    with world.store.connect() as conn:
        closed = conn.execute(select(escalations.c.closed_at).where(escalations.c.visit_id == visit_id)).scalars().all()
    assert closed and all(moment is not None for moment in closed)


async def test_someone_the_step_does_not_name_is_refused_on_the_board_as_the_cli_refuses(world: World) -> None:
    visit_id = world.ids["overdue"]
    async with dashboard(world, actor="pt-dsl", mode="board") as run:
        await run.press("x")
        await run.press("y")
        errors = run.notices("error")
        assert not run.posted(EscalationActed)
    assert len(errors) == 1 and errors[0].startswith(f"Dev Safeguard (pt-dsl) may not stand down visit {visit_id}")
    assert "ask " in errors[0]
    with world.store.connect() as conn:
        assert None in conn.execute(select(escalations.c.closed_at).where(escalations.c.visit_id == visit_id)).scalars().all()


async def test_a_check_in_with_the_code_word_used_jumps_to_the_emergency_step(world: World) -> None:
    visit_id = world.ids["out"]
    async with dashboard(world, mode="board") as run:
        table = run.app.screen.query_one("#board")
        await run.press("down")
        assert table.selected_key == visit_id and table.get_row_at(1)[5].plain == "—"  # no step yet
        dialog = await run.opens("c", CheckInDialog)
        dialog.query_one("#code_word_used", Checkbox).value = True
        await run.pilot.press(*"From the car")
        await run.press("enter")
        assert [m.what for m in run.posted(EscalationActed)] == [
            f"Code word used on {visit_id}: the emergency step is next."]
        world.escalations.watch.tick()  # the watch (hvc watch) notices the check-in
        await run.press("f5")
        assert table.get_row_at(0)[-1].plain == visit_id  # now the most urgent visit on the board
        escalation = table.get_row_at(0)[5].plain
    with world.store.connect() as conn:
        kinds = conn.execute(select(escalations.c.kind).where(escalations.c.visit_id == visit_id)).scalars().all()
        trail = conn.execute(select(audit.c.action, audit.c.actor, audit.c.detail)
                             .where(audit.c.visit_id == visit_id)).all()
    assert kinds == ["code-word"] and escalation.startswith("step 3 ‼") and "Call the police" in escalation
    check_in = [t for t in trail if t.action == "visit.check-in"]
    assert [(t.actor, t.detail["code_word_used"]) for t in check_in] == [("pt-head", True)]
    assert "bluebell" not in str(trail)


async def test_a_check_in_from_the_door_brings_potton_s_wait_finding_while_staff_are_out(world: World) -> None:
    visit_id = world.ids["out"]
    async with dashboard(world, mode="board") as run:
        await run.press("down")
        dialog = await run.opens("c", CheckInDialog)
        fill(dialog, {"parents_absent": True, "waited": "20", "animal_loose": True})
        dialog.query_one("#note", Input).focus()
        await run.pilot.press(*"No answer; dog in the garden")
        await run.press("enter")
        assert [m.what for m in run.posted(EscalationActed)] == [f"Check-in on {visit_id} recorded."]
        # The board says at once what the report breaks, while staff are still at the door.
        [shown] = run.notices("warning")
        assert "potton.wait-15-minutes" in shown and "potton.animals" in shown
    standing = world.service.get(visit_id)
    said = standing.visit.check_ins[-1]
    assert (said.parents_present, said.waited_minutes, said.animals_secured, said.entered_home) == (False, 20, False, None)
    findings = {f.rule_id for f in world.service.policies.all_findings(standing.visit, world.clock.now())}
    assert {"potton.wait-15-minutes", "potton.animals"} <= findings and standing.visit.outcome is None


async def test_more_time_moves_the_due_back_time_and_is_audited(world: World) -> None:
    visit_id = world.ids["overdue"]
    async with dashboard(world, mode="board") as run:
        table = run.app.screen.query_one("#board")
        assert table.selected_key == visit_id and "OVERDUE" in table.get_row_at(0)[0].plain
        dialog = await run.opens("m", ExtendDialog)
        assert dialog.query_one("#until", Input).value == "2026-11-23 10:06"  # now + 30 minutes offered
        dialog.query_one("#until", Input).value = "nine"
        await run.press("ctrl+s")  # a time it cannot read: the dialog stays and says why
        assert run.app.screen is dialog and "is not a time" in str(dialog.query_one("#problem").render())
        dialog.query_one("#until", Input).value = "10:15"
        dialog.query_one("#note", Input).value = "Parent arrived late"
        await run.press("ctrl+s")
        assert [m.what for m in run.posted(EscalationActed)] == [f"{visit_id} now due back 2026-11-23 10:15."]
        row = next(i for i in range(table.row_count) if table.get_row_at(i)[-1].plain == visit_id)
        assert table.get_row_at(row)[3].plain == "10:15" and "OVERDUE" not in table.get_row_at(row)[0].plain
    with world.store.connect() as conn:
        entry = conn.execute(select(audit.c.actor, audit.c.detail).where(
            audit.c.visit_id == visit_id, audit.c.action == "visit.extend")).one()
        note = conn.execute(select(visit_events.c.note).where(
            visit_events.c.visit_id == visit_id, visit_events.c.event == "extend")).scalar_one()
    assert entry.actor == "pt-head" and entry.detail["expected_return"].startswith("2026-11-23T10:15")
    assert note == "Parent arrived late"


async def test_staff_back_takes_the_visit_off_the_board(world: World) -> None:
    visit_id = world.ids["out"]
    async with dashboard(world, mode="board") as run:
        table = run.app.screen.query_one("#board")
        await run.press("down")
        await run.press("r")
        assert isinstance(run.app.screen, ConfirmDialog)
        await run.press("y")
        shown = [table.get_row_at(i)[-1].plain for i in range(table.row_count)]
    assert shown == [world.ids["overdue"]]
    assert _state(world, visit_id) == "returned"


async def _open_section(run, form: RequestScreen, section_id: str) -> None:
    """Open a section of the request form's further details as a person would: Enter on its title."""
    section = form.query_one(f"#{section_id}", Collapsible)
    assert section.collapsed
    section.query_one(CollapsibleTitle).focus()
    await run.press("enter")
    assert not section.collapsed


def _findings(run) -> set[str]:
    return {f.rule_id for f in run.posted(FindingsPreviewed)[-1].preview.findings}


async def test_the_further_details_reach_the_visit_and_its_findings(world: World) -> None:
    async with dashboard(world) as run:
        form = await _fill_request(run)
        form.query_one("#parent_agreement", Checkbox).value = False
        await run.settle()
        assert "potton.parent-agreement" in _findings(run)
        await _open_section(run, form, "more-planning")
        form.query_one("#parents_not_responding", Checkbox).focus()
        await run.press("space")
        assert "potton.parent-agreement" not in _findings(run)  # the findings followed the new field
        for section_id in ("more-hours", "more-travel", "more-family", "more-risk"):
            await _open_section(run, form, section_id)
        fill(form, {"vehicle-make": "Ford", "vehicle-model": "Fiesta", "vehicle-registration": "AB12 CDE",
                    "vehicle-colour": "blue", "planned_with": "pt-dsl", "alt-video-call": "No internet at home",
                    "welfare_contact": "pt-office", "referral-service": "Early Help", "referral-coordinated": True,
                    "risk-signed_off_by": "pt-head", "contact_interval_minutes": "20",
                    "missed_contact_procedure": "Office rings twice, then the head"})
        await run.press("ctrl+s")
        acted = run.posted(VisitActed)
    visit = acted[0].result.record.visit
    assert visit.parents_not_responding and not visit.parent_agreement
    assert (visit.vehicle.registration, visit.planned_with.id, visit.welfare_contact.id) == (
        "AB12 CDE", "pt-dsl", "pt-office")
    assert [(a.method, a.why_not) for a in visit.alternatives_considered] == [("video-call", "No internet at home")]
    assert (visit.external_referral.service, visit.external_referral.coordinated) == ("Early Help", True)
    risk = visit.risk_assessment
    assert (risk.completed_by.id, risk.signed_off_by.id, risk.contact_interval_minutes) == ("pt-head", "pt-head", 20)
    assert risk.missed_contact_procedure == "Office rings twice, then the head"


async def test_a_detail_that_cannot_be_read_is_named_and_kept(world: World) -> None:
    async with dashboard(world) as run:
        form = await _fill_request(run)
        for section_id in ("more-travel", "more-risk"):
            await _open_section(run, form, section_id)
        form.query_one("#vehicle-registration", Input).value = "AB12 CDE"
        form.query_one("#contact_interval_minutes", Input).value = "ten"
        await run.settle()
        assert "contact_interval_minutes" in str(form.query_one("#findings").render())  # said before saving
        await run.press("ctrl+s")
        assert run.app.screen is form
        assert form.query_one("#vehicle-registration", Input).value == "AB12 CDE"
        assert form.query_one("#contact_interval_minutes", Input).value == "ten"
        errors = run.notices("error")
    assert len(errors) == 1 and errors[0].startswith("risk_assessment.contact_interval_minutes:")


async def test_print_the_briefing_pack_and_export_the_record_from_the_visit_screen(world: World) -> None:
    async with dashboard(world) as run:
        await run.open_visit(world.ids["out"])
        await run.press("p")
        await run.open_visit(world.ids["returned"])
        offered = run.app.screen.check_action("export", ())  # not reported yet: no record to export
        await run.press("x")
        refused = run.notices("error")
        await run.open_visit(world.ids["reported"])
        await run.press("x")
        printed = run.posted(Printed)
        told = run.notices()
    assert [(m.what, m.printout.visit_id) for m in printed] == [("briefing pack", world.ids["out"]),
                                                                ("record", world.ids["reported"])]
    for message in printed:
        path = message.printout.path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes().startswith(b"%PDF")
        assert any(str(path) in notice and "It holds personal data" in notice for notice in told)
    assert not offered and refused == []  # the footer did not offer x, and pressing it printed nothing
    with world.store.connect() as conn:
        actions = conn.execute(select(audit.c.actor, audit.c.action).where(
            audit.c.action.in_(("visit.pack-printed", "visit.record-exported")))).all()
    assert sorted(actions) == [("pt-head", "visit.pack-printed"), ("pt-head", "visit.record-exported")]


async def test_the_briefing_says_absences_the_mis_did_not_send_are_not_known_never_none(world: World) -> None:
    visit_id = world.ids["returned"]
    with world.store.begin() as conn:
        pupil = conn.execute(select(visits.c.pupil_mis_id).where(visits.c.id == visit_id)).scalar_one()
        conn.execute(insert(pupil_attendance).values(school_id="potton", pupil_mis_id=pupil, period="summary",
                                                     possible=100, attended=90))
    async with dashboard(world, size=(200, 60)) as run:
        screen = await run.open_visit(visit_id)
        shown = str(screen.query_one("#briefing", Static).render()).splitlines()
    [line] = [line for line in shown if "MIS summary" in line]
    assert "not known authorised, not known unauthorised absences" in line and " 0 " not in line, line


def test_the_pupil_search_just_after_midnight_in_summer_counts_the_london_day(world: World) -> None:
    world.clock.set(datetime(2026, 6, 15, 23, 30, tzinfo=timezone.utc))  # 00:30 BST on Tuesday 16 June
    with world.store.begin() as conn:  # the register so far holds one absence, on the 16th
        conn.execute(delete(pupil_session_marks))
        conn.execute(insert(pupil_session_marks).values(school_id="potton", pupil_mis_id="A1000000001",
                                                        day=date(2026, 6, 16), session="AM", code="O",
                                                        meaning="unauthorised"))
    session = world.session()
    hits = {hit.mis_id: hit.attendance_3m for hit in session.find_pupils("potton", "Amira")}
    assert hits["A1000000001"] == 0.0  # not "not available", as it was on the UTC date


async def test_a_report_on_a_visit_just_after_midnight_in_summer_reads_its_times_on_the_london_day(
        world: World) -> None:
    start = datetime(2026, 6, 15, 23, 30, tzinfo=timezone.utc)  # 00:30 BST on Tuesday 16 June, given in UTC
    world.clock.set(start - timedelta(hours=1))
    visit_id = world.service.request(request(start=start, background_shown_at=world.clock.now().isoformat()),
                                     by="pt-v1").record.id
    world.service.override(visit_id, "potton.school-hours", by="pt-head", reason="The family asked for this hour.")
    world.service.authorise(visit_id, by="pt-head")  # in June the policy's review is not yet overdue
    world.clock.set(start)
    world.service.sign_out(visit_id, by="pt-office")
    world.clock.set(start + timedelta(hours=1))
    world.service.return_(visit_id, by="pt-office")
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        form = await run.opens("w", ReportScreen)
        fill(form, {"arrived_at": "00:40", "departed_at": "01:10"})
        document = form.document()
    assert document["arrived_at"] == datetime(2026, 6, 15, 23, 40, tzinfo=timezone.utc)  # the 16th, 00:40 BST
