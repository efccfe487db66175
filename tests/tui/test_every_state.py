"""Every visit state has a screen, and each screen offers only the keys its visit's state allows."""

from __future__ import annotations

from dashkit import REVIEW_WARNING, World
from pilotkit import Run, dashboard
from textual.widgets import Input, Select

from hv_connector.visits.lifecycle import State
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.screens.board import BoardScreen
from hvc_tui.screens.pending import PendingScreen
from hvc_tui.screens.report import ReportScreen
from hvc_tui.screens.request import RequestScreen
from hvc_tui.screens.visit import VisitScreen
from hvc_tui.screens.visits import VisitsScreen
from hvc_tui.widgets.stable_table import StableTable


def keys_shown(run: Run) -> set[str]:
    """The actions whose keys the footer shows now."""
    return {active.binding.action for active in run.app.screen.active_bindings.values()}


def listed(run: Run) -> list[str]:
    table = run.app.screen.query_one(StableTable)
    return [str(key.value) for key in table.rows]


async def highlight(run: Run, visit_id: str) -> None:
    table = run.app.screen.query_one(StableTable)
    table.move_cursor(row=listed(run).index(visit_id))
    await run.settle()


async def test_key_5_lists_every_open_visit_and_a_state_lists_the_finished(world: World) -> None:
    async with dashboard(world) as run:
        await run.press("5")
        assert isinstance(run.app.screen, VisitsScreen)
        open_ids = listed(run)
        run.app.screen.query_one("#state", Select).value = "reported"
        await run.settle()
        reported = listed(run)
    ids = world.ids
    assert {ids["warned"], ids["blocked"], ids["out"], ids["overdue"], ids["returned"]} <= set(open_ids)
    assert ids["reported"] not in open_ids
    assert reported == [ids["reported"]]


async def test_the_footer_offers_what_each_state_allows(world: World) -> None:
    async with dashboard(world, mode="visits") as run:
        shown = {}
        for name in ("warned", "out", "returned"):
            await highlight(run, world.ids[name])
            shown[name] = keys_shown(run) & {"sign_out", "cancel", "abort", "report", "close"}
    assert shown == {"warned": {"cancel"}, "out": {"abort"}, "returned": {"abort", "report"}}


async def test_an_authorised_visit_is_signed_out_from_the_visits_screen(world: World) -> None:
    visit_id = world.ids["warned"]
    world.service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    async with dashboard(world, mode="visits") as run:
        await highlight(run, visit_id)
        await run.press("s")
        assert isinstance(run.app.screen, ConfirmDialog)
        question = run.app.screen.question
        await run.press("y")
    assert world.service.get(visit_id).state is State.SIGNED_OUT
    # Ash and Sky are out on two other visits of the world already: the question says so before they go.
    assert "Ash Visitor is already out on" in question


async def test_a_requested_visit_is_cancelled_with_its_reason(world: World) -> None:
    visit_id = world.ids["blocked"]
    async with dashboard(world, mode="visits") as run:
        await highlight(run, visit_id)
        await run.press("c")
        assert isinstance(run.app.screen, DecisionDialog)
        run.app.screen.query_one("#text", Input).value = "Family moved away"
        await run.press("ctrl+s")
    record = world.service.get(visit_id)
    assert record.state is State.CANCELLED
    assert record.visit.outcome is not None and record.visit.outcome.cancellation_reason == "Family moved away"


async def test_the_report_form_opens_only_for_a_visit_that_has_returned(world: World) -> None:
    async with dashboard(world) as run:
        await run.open_visit(world.ids["out"])
        out_keys = keys_shown(run)
        run.app.push_screen(ReportScreen(world.ids["out"]))  # as a stale key press or the palette might
        await run.settle()
        assert not isinstance(run.app.screen, ReportScreen)
        refused = run.notices("warning")
        await run.press("escape")
        await run.open_visit(world.ids["returned"])
        assert "report" in keys_shown(run)
        await run.press("w")
        assert isinstance(run.app.screen, ReportScreen)
    assert "report" not in out_keys
    assert any("a report is written once its staff are back" in n for n in refused)


async def test_escape_on_a_report_with_typed_text_asks_before_discarding(world: World) -> None:
    async with dashboard(world) as run:
        await run.open_visit(world.ids["returned"])
        await run.press("w")
        run.app.screen.query_one("#arrived_at", Input).value = "10:05"
        await run.press("escape")
        assert isinstance(run.app.screen, ConfirmDialog)
        await run.press("n")
        assert run.app.screen.query_one("#arrived_at", Input).value == "10:05"  # kept
        await run.press("escape", "y")
        assert isinstance(run.app.screen, VisitScreen)


async def test_a_number_key_on_a_visit_goes_to_its_screen(world: World) -> None:
    async with dashboard(world) as run:
        await run.open_visit(world.ids["warned"])
        await run.press("1")
        assert isinstance(run.app.screen, PendingScreen)


async def test_escape_clears_the_pending_filter(world: World) -> None:
    async with dashboard(world) as run:
        await run.press("slash", *"zzz")
        assert listed(run) == []
        await run.press("escape")
        assert run.app.screen.query_one("#filter", Input).value == ""
        assert len(listed(run)) == 2


async def test_escape_on_the_request_form_asks_only_once_something_is_typed(world: World) -> None:
    async with dashboard(world) as run:
        await run.press("n")
        await run.press("escape")  # only what the form filled in itself: it just closes
        closed_at_once = isinstance(run.app.screen, PendingScreen)
        await run.press("n")
        run.app.screen.query_one("#purpose", Input).value = "Talk about attendance"
        await run.press("escape")
        asked = isinstance(run.app.screen, ConfirmDialog)
    assert closed_at_once and asked


async def test_a_screen_key_on_a_form_with_text_asks_before_leaving_it(world: World) -> None:
    async with dashboard(world) as run:
        form = await run.opens("n", RequestScreen)
        form.query_one("#purpose", Input).value = "Talk about attendance"
        form.query_one("#save").focus()  # a text box takes "2" as text; on the Save button it is the screen's key
        await run.press("2")
        asked = isinstance(run.app.screen, ConfirmDialog)
        await run.press("n")  # no: stay on the form, the text kept
        kept = run.app.screen is form and form.query_one("#purpose", Input).value == "Talk about attendance"
        await run.press("2")
        await run.press("y")
        left = isinstance(run.app.screen, BoardScreen)
    assert asked
    assert kept
    assert left
