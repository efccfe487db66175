"""The outbox, sync and board screens can be read, and the app remembers and asks as a person expects."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from dashkit import World
from pilotkit import dashboard, settle
from sqlalchemy import update
from textual.notifications import Notify
from textual.widgets._toast import Toast

from hv_connector.store.schema import quarantine
from hv_connector.sync.pipeline import SchoolResult
from hvc_tui import remembered
from hvc_tui.app import HvcApp
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.screens.board import BoardScreen
from hvc_tui.screens.outbox_record import OutboxRecordScreen
from hvc_tui.screens.pending import PendingScreen
from hvc_tui.session import Session
from hvc_tui.widgets.stable_table import StableTable


def board_row(screen: BoardScreen, visit_id: str) -> list[str]:
    table = screen.query_one(StableTable)
    return [cell.plain for cell in table.get_row(visit_id)]


async def test_enter_on_a_parked_record_shows_cpoms_whole_reason_and_the_text_sent(world: World) -> None:
    async with dashboard(world, mode="outbox") as run:
        await run.press("enter")
        screen = run.app.screen
        assert isinstance(screen, OutboxRecordScreen)
        reason = str(screen.query_one("#reason").render())
        sent = str(screen.query_one("#sent").render())
    assert reason == "422: category 'Home visit' is not known [sic]"  # whole, brackets and all
    assert sent.startswith("Home visit record — Amira Example")


async def test_the_outbox_names_no_one_receiver_whichever_sink_takes_the_records(world: World) -> None:
    async with dashboard(world, mode="outbox") as run:
        screen = run.app.screen
        words = [screen.title, *(label for label, _ in screen.query_one(StableTable).spec),
                 *(b.tooltip for b in run.app.BINDINGS if b.id == "app.outbox")]
        await run.press("enter")
        record = run.app.screen
        words += [str(record.query_one("#facts").render()), record.query_one("#reason").border_title,
                  record.query_one("#sent").border_title]
    assert not [w for w in words if "CPOMS" in w]  # the records may go to the printed (manual) sink
    assert "Receiver said" in words


async def test_retry_asks_first_saying_what_will_happen(world: World) -> None:
    async with dashboard(world, mode="outbox") as run:
        await run.press("t")
        dialog = run.app.screen
        assert isinstance(dialog, ConfirmDialog)
        await run.press("n")
        assert run.notices() == []
        await run.press("t", "y")
        notices = run.notices()
    assert "the next push sends it" in dialog.question
    assert any("is waiting again" in n for n in notices)


async def test_sent_records_can_be_listed(world: World) -> None:
    async with dashboard(world, mode="outbox") as run:
        waiting = list(run.app.screen.query_one(StableTable).rows)
        await run.press("a")
        status = str(run.app.screen.query_one("#status").render())
        sent = list(run.app.screen.query_one(StableTable).rows)
    assert waiting and sent == []
    assert "record(s) the receiver took" in status


async def test_the_sync_screen_says_when_nothing_is_in_quarantine(world: World) -> None:
    with world.store.begin() as conn:
        conn.execute(update(quarantine).values(resolved_at=world.clock.now()))
    async with dashboard(world, mode="sync") as run:
        said = run.app.screen.query_one("#no-quarantine")
        table = run.app.screen.query_one("#quarantine")
        assert said.display and not table.display
    assert "No records in quarantine" in str(said.render())


async def test_the_board_says_who_is_out_how_to_reach_them_and_when_they_were_last_heard_from(world: World) -> None:
    async with dashboard(world, mode="board") as run:
        screen = run.app.screen
        assert isinstance(screen, BoardScreen)
        out = board_row(screen, world.ids["out"])
        overdue = board_row(screen, world.ids["overdue"])
        status = str(screen.query_one("#status").render())
        await run.press("down")  # the out visit, under the overdue one
        detail = str(screen.query_one("#detail").render())
    assert out[1] == "Noa 🦊 Emoji"
    assert "Staff: Ash Visitor 07700 900305, Sky Second 07700 900306" in detail
    assert out[6].endswith("signed out") and "last contact 08:00 (signed out)" in detail
    assert overdue[6].endswith("office-call")
    # The world's two visitors are out on two visits at once: flagged on the row and in the status line.
    assert out[2].startswith("⚠ ") and overdue[2].startswith("⚠ ")
    assert f"⚠ Ash Visitor out on {world.ids['overdue']} and {world.ids['out']} at once" in status


async def test_office_staff_open_on_the_board(world: World) -> None:
    async with dashboard(world, actor="pt-office", mode=None) as run:
        office = type(run.app.screen)
    async with dashboard(world, actor="pt-head", mode=None) as run:
        head = type(run.app.screen)
    assert (office, head) == (BoardScreen, PendingScreen)


async def test_quitting_asks_first_when_it_stops_the_demo(world: World) -> None:
    app = HvcApp(world.session(), board_seconds=3600, quit_stops="the demo")
    async with app.run_test() as pilot:
        await pilot.press("q")  # not a quit key: a slip of the finger leaves the dashboard open
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmDialog)
        assert "also stops the demo" in app.screen.question
        await pilot.press("n")
        assert app.is_running
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_chosen_theme_is_remembered(world: World, tmp_path: Path) -> None:
    state = tmp_path / "state" / "dashboard.json"
    first = HvcApp(world.session(), board_seconds=3600, remember=state)
    async with first.run_test() as pilot:
        first.theme = "nord"
        await pilot.pause()  # the theme's signal starts the write once the change is processed
        await first.workers.wait_for_complete()
    again = HvcApp(world.session(), board_seconds=3600, remember=state)
    assert remembered.read(state).theme == "nord"
    assert again.theme == "nord"


def test_a_theme_write_cut_short_leaves_the_last_choice_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state" / "dashboard.json"
    remembered.write(state, remembered.Remembered(theme="nord"))
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # private to the user, as its folder is

    def disk_fails(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(os, "fsync", disk_fails)
    with pytest.raises(OSError, match="Input/output"):
        remembered.write(state, remembered.Remembered(theme="gruvbox"))
    assert remembered.read(state).theme == "nord"
    assert [p.name for p in state.parent.iterdir()] == ["dashboard.json"]  # no temporary file left behind


async def test_a_half_written_theme_file_opens_the_dashboard_as_new_and_says_so_in_the_log(
        world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "dashboard.json"
    state.write_text('{"theme": "no')
    app = HvcApp(world.session(), board_seconds=3600, remember=state)
    async with app.run_test():
        assert app.theme == "textual-dark"
    assert any(r.levelname == "WARNING" and str(state) in r.getMessage() for r in caplog.records)


async def test_a_toast_stays_with_the_screen_that_raised_it(world: World) -> None:
    app = HvcApp(world.session(), board_seconds=3600, mode="board")
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("down", "k")  # the visit out has no escalation step to acknowledge: a warning says so
        await settle(pilot)
        warned = list(app.screen.query(Toast))
        await pilot.press("3")
        await settle(pilot)
        on_outbox = list(app.screen.query(Toast))
        await pilot.press("2")
        await settle(pilot)
        back = list(app.screen.query(Toast))
    assert len(warned) == 1 and on_outbox == [] and back == []


async def test_sync_now_is_offered_to_those_who_may_sync_and_says_how_it_went(world: World) -> None:
    asked: list[list[str]] = []

    def sync(schools: Sequence[str]) -> list[SchoolResult]:  # stands in for the MIS sync `hvc sync` runs
        asked.append(list(schools))
        return [SchoolResult(school_id=school, started_at=world.clock.now(), added=3) for school in schools]

    offered, said = {}, []
    for actor, sync_set_up in (("pt-head", None), ("pt-office", sync), ("pt-head", sync)):
        session = Session(world.service, world.escalations, actor, sync=sync_set_up)
        app = HvcApp(session, board_seconds=3600, mode="sync")
        async with app.run_test(message_hook=lambda m: isinstance(m, Notify) and said.append(m.notification.message)) \
                as pilot:
            await settle(pilot)
            offered[actor, sync_set_up is not None] = any(
                active.binding.action == "sync_now" for active in app.screen.active_bindings.values())
            await pilot.press("s")
            await settle(pilot)
    assert offered == {("pt-head", False): False, ("pt-office", True): False, ("pt-head", True): True}
    assert asked == [["potton"]]
    assert "potton ok: 3 added, 0 updated, 0 quarantined" in said
