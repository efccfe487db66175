"""A pupil whose MIS text holds terminal control sequences, on the dashboard: the screen shows the
escapes as text (``\\x1b``) and not one raw ESC from the data reaches what the terminal is sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from dashkit import REVIEW_WARNING, World, request
from pilotkit import Run, dashboard, fill
from rich.text import Text
from sqlalchemy import insert
from textual.widgets import Input, Label, OptionList, Static

from hv_connector.store import audit
from hv_connector.store.schema import pupil_alerts, pupil_contacts, pupils
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.watch.escalations import BoardRow, EscalationView
from hvc_tui.app import HvcApp
from hvc_tui.screens.board import detail, escalation_cell
from hvc_tui.screens.report import ReportScreen
from hvc_tui.screens.request import RequestScreen
from hvc_tui.session import Session

HOSTILE = "Smith\x1b[2J\x1b[31m\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\\x1b[8m\nForged\u202e"
MIS_ID = "A1000000666"


def seed_hostile_visit(world: World) -> str:
    """A pupil stored raw (as before the sync neutralised) with a hostile contact and order, and a visit for them."""
    key = {"school_id": "potton", "pupil_mis_id": MIS_ID}
    with world.store.begin() as conn:
        conn.execute(insert(pupils).values(school_id="potton", mis_id=MIS_ID, upn="UHOSTILE", forename="Eve",
                                           surname=HOSTILE, display_name=f"Eve {HOSTILE}",
                                           address_text="6 Example Road\x1b[8m, Potton"))
        conn.execute(insert(pupil_contacts).values(**key, contact_mis_id="C666", name="Mal\x1b[2Jlory",
                                                   relationship="Father", parental_responsibility=True))
        conn.execute(insert(pupil_alerts).values(**key, kind="court-order", text="Terms\x1b[8m hidden"))
    return world.service.request(request(MIS_ID), by="pt-v1").record.id


def terminal_output(run: Run) -> str:
    """Everything the app would send the terminal to draw the whole screen now."""
    update = run.app.screen._compositor.render_update(full=True)
    return update.render_segments(run.app.console)


def assert_inert(run: Run) -> None:
    sent = terminal_output(run)
    for raw in ("\x1b[2J", "\x1b[31m", "\x1b[8m", "\x1b]8;;https://evil.example", "\u202e"):
        assert raw not in sent
    assert "Eve Smith\\x1b[2J\\x1b[31m" in "\n".join(run.screen_lines())  # as escapes, on the pending list


async def test_hostile_mis_text_shows_as_escapes_on_the_pending_list_and_the_visit(world: World) -> None:
    visit_id = seed_hostile_visit(world)
    async with dashboard(world, size=(200, 50)) as run:
        assert_inert(run)
        await run.open_visit(visit_id)
        assert_inert(run)
        shown = "\n".join(run.screen_lines())
        assert "\\x1b[8m\\x0aForged\\u202e" in shown and "Mal\\x1b[2Jlory" in shown and "Terms\\x1b[8m hidden" in shown
        assert "6 Example Road\\x1b[8m, Potton" in shown


async def test_text_that_reaches_the_screen_another_way_is_caught_by_the_line_filter(world: World) -> None:
    async with dashboard(world) as run:
        await run.app.screen.mount(Static(Text("Plugin says \x1b[2J\x1b[31mhello")))  # nothing neutralised this
        await run.settle()
        assert "\x1b[2J" not in terminal_output(run) and "Plugin says \\x1b[2J\\x1b[31mhello" in "\n".join(run.screen_lines())


async def test_the_status_line_shows_a_typed_filter_as_written_never_as_markup(world: World) -> None:
    async with dashboard(world) as run:
        fill(run.app.screen, {"filter": "[red]Eve[/red] [/nobody]"})
        await run.settle()
        assert "matching '[red]Eve[/red] [/nobody]'" in str(run.app.screen.query_one("#status", Static).render())


def test_an_escalation_note_shows_on_the_board_as_one_line_of_escapes() -> None:
    when = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    step = EscalationView(id=1, visit_id="v-1", school_id="potton", kind="call", step_index=0, due_at=when,
                          fired_at=when, who=(), message="call", acknowledged_by="pt-head",
                          acknowledged_by_name="Head\x1b[8m", acknowledged_at=when,
                          note="phoned\nstep 2 ✔ all safe", closed_at=None)
    row = BoardRow(visit_id="v-1", school_id="potton", state="signed_out", staff="A", address=None,
                   planned_start=when, expected_return=None, next_check_in=None, next_check_in_what=None,
                   overdue=False, escalation=step, open_escalations=1)
    assert escalation_cell(row).plain == "step 1 ✔ Head\\x1b[8m: phoned\\x0astep 2 ✔ all safe"


async def test_a_risk_assessment_s_hazard_and_controls_show_one_line_each(world: World) -> None:
    risk = {"code_word": "bluebell", "completed_by": "pt-head",
            "hazards": [{"hazard": "Dog\nH: none", "rating": "M", "controls": ["Ask for it\x1b[8m to be shut away"]}]}
    visit_id = world.service.request(request(risk_assessment=risk), by="pt-v1").record.id
    async with dashboard(world, size=(200, 50)) as run:
        await run.open_visit(visit_id)
        shown = run.screen_lines()
    assert any("[M] Dog\\x0aH: none — Ask for it\\x1b[8m to be shut away" in line for line in shown)


def test_whom_an_escalation_step_reaches_shows_in_the_board_s_detail_as_one_line_of_escapes() -> None:
    when = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    step = EscalationView(id=1, visit_id="v-1", school_id="potton", kind="call", step_index=0, due_at=when,
                          fired_at=when, who=("office\nhead", "dsl\x1b[8m"), message="call", acknowledged_by=None,
                          acknowledged_by_name=None, acknowledged_at=None, note=None, closed_at=None)
    row = BoardRow(visit_id="v-1", school_id="potton", state="signed_out", staff="A", address=None,
                   planned_start=when, expected_return=None, next_check_in=None, next_check_in_what=None,
                   overdue=False, escalation=step, open_escalations=1)
    assert "Escalation step 1, for office\\x0ahead and dsl\\x1b[8m: ‼ call" in detail(row, when, {}).plain


FORGED = "\\x1b[8m\\x0aForged\\u202e"
"""How the tail of :data:`HOSTILE` shows: on the same line as the name, every control character an escape."""


async def test_an_audit_entry_s_name_shows_in_the_visit_s_trail_as_one_line_of_escapes(world: World) -> None:
    visit_id = world.ids["returned"]
    with world.store.begin() as conn:
        audit.append(conn, actor="pt-office", action="visit.note", school_id="potton", visit_id=visit_id,
                     state="returned", detail={"by_name": f"Ola {HOSTILE}"}, at=world.clock.now())
    async with dashboard(world, size=(200, 50)) as run:
        await run.open_visit(visit_id)
        assert "\x1b[8m" not in terminal_output(run)
        shown = str(run.app.screen.query_one("#trail", Static).render()).splitlines()
    assert any("visit.note" in line and "Ola Smith\\x1b[2J\\x1b[31m" in line and FORGED in line for line in shown)


async def test_the_report_form_heading_shows_the_pupil_as_one_line_of_escapes(world: World) -> None:
    visit_id = seed_hostile_visit(world)
    world.service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    world.service.sign_out(visit_id, by="pt-office")
    world.service.return_(visit_id, by="pt-office")
    async with dashboard(world, size=(200, 50)) as run:
        await run.open_visit(visit_id)
        form = await run.opens("w", ReportScreen)
        heading = str(form.query_one("#heading", Label).render())
        assert "\x1b[8m" not in terminal_output(run)
    assert "\n" not in heading and "Eve Smith\\x1b[2J" in heading and FORGED in heading


async def test_the_request_form_shows_the_chosen_pupil_as_one_line_of_escapes(world: World) -> None:
    seed_hostile_visit(world)
    async with dashboard(world, size=(200, 50)) as run:
        form = await run.opens("n", RequestScreen)
        form.query_one("#pupil-search", Input).focus()
        await run.pilot.press(*"eve")
        await run.settle()
        hit = str(form.query_one("#pupil-hits", OptionList).get_option_at_index(0).prompt)
        form.query_one("#pupil-hits", OptionList).focus()
        await run.press("down", "enter")
        label = str(form.query_one("#pupil", Label).render())
        assert "\x1b[8m" not in terminal_output(run)
    for shown in (hit, label):
        assert "\n" not in shown and "Eve Smith\\x1b[2J" in shown and FORGED in shown


async def test_the_sync_toast_shows_the_mis_s_message_as_one_line_of_escapes(world: World) -> None:
    def sync(schools: Sequence[str]) -> list[SchoolResult]:  # stands in for the MIS sync `hvc sync` runs
        return [SchoolResult(school_id=school, started_at=world.clock.now(), status="failed",
                             message=f"Wonde said {HOSTILE}") for school in schools]

    app = HvcApp(Session(world.service, world.escalations, "pt-head", sync=sync), board_seconds=3600, mode="sync")
    async with app.run_test(size=(200, 50)) as pilot:
        run = Run(app, pilot, [])
        await run.settle()
        await run.press("s")
        said = [notification.message for notification in app._notifications]
    assert len(said) == 1 and "\n" not in said[0] and "Wonde said Smith\\x1b[2J" in said[0] and FORGED in said[0]


async def test_a_member_of_staff_out_twice_shows_in_the_board_s_status_line_as_one_line_of_escapes(
        world: World) -> None:
    potton = world.service.directory.staff["potton"]
    potton["pt-v1"] = potton["pt-v1"].model_copy(update={"name": f"Ash {HOSTILE}"})  # type: ignore[index]
    async with dashboard(world, mode="board") as run:
        status = str(run.app.screen.query_one("#status").render())
    # The world's visitors are out on two visits at once: the status line names them, on its one line.
    assert "⚠ Ash Smith\\x1b[2J\\x1b[31m" in status and FORGED in status
    assert "\nForged" not in status
