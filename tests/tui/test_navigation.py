"""Getting around: every binding says what it is, the palette reaches every screen and action, help lists keys."""

from __future__ import annotations

import pytest
from dashkit import World
from pilotkit import dashboard
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets._footer import FooterKey

from hvc_tui.app import HvcApp
from hvc_tui.commands import DashboardCommands
from hvc_tui.dialogs.check_in import CheckInDialog
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.extend import ExtendDialog
from hvc_tui.screens.board import BoardScreen
from hvc_tui.screens.help import HelpScreen
from hvc_tui.screens.lifecycle import LifecycleScreen
from hvc_tui.screens.outbox import OutboxScreen
from hvc_tui.screens.outbox_record import OutboxRecordScreen
from hvc_tui.screens.report import ReportScreen
from hvc_tui.screens.request import RequestScreen
from hvc_tui.screens.sync import SyncScreen
from hvc_tui.screens.visit import VisitScreen
from hvc_tui.widgets.footer import Footer

OWNERS = (HvcApp, *HvcApp.MODES.values(), LifecycleScreen, VisitScreen, OutboxRecordScreen, RequestScreen,
          ReportScreen, CheckInDialog, ExtendDialog, HelpScreen, DecisionDialog, ConfirmDialog)


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    bindings = [b for owner in OWNERS for b in owner.BINDINGS]
    assert all(isinstance(b, Binding) for b in bindings)
    missing = [f"{b.key} → {b.action}" for b in bindings if not b.id or not b.tooltip]
    assert missing == []
    ids = [b.id for b in bindings]
    assert len(ids) == len(set(ids))


async def test_the_command_palette_reaches_another_screen_and_its_action(world: World) -> None:
    async with dashboard(world) as run:
        await run.press("ctrl+p")
        await run.pilot.press(*"Outbox: Retry")
        await run.settle()
        await run.press("enter")
        assert isinstance(run.app.screen, ConfirmDialog)  # a retry asks first, from the palette too
        await run.press("y")
        assert isinstance(run.app.screen, OutboxScreen)
        notices = run.notices("information")
    assert any("is waiting again" in n for n in notices)  # the parked record was retried from the palette


async def test_the_palette_goes_to_each_screen(world: World) -> None:
    async with dashboard(world) as run:
        names = [name for name, _, _ in DashboardCommands(run.app.screen).commands()]
        assert {"Live board: Check-in", "Live board: More time", "Live board: Staff back"} <= set(names)
        for title, screen in (("Go to Board", BoardScreen), ("Go to Sync", SyncScreen),
                              ("Go to Pending", type(run.app.screen))):
            await run.press("ctrl+p")
            await run.pilot.press(*title)
            await run.settle()
            await run.press("enter")
            assert isinstance(run.app.screen, screen)


async def test_help_lists_every_key(world: World) -> None:
    async with dashboard(world) as run:
        await run.press("question_mark")
        assert isinstance(run.app.screen, HelpScreen)
        shown = "".join(str(s.render()) for s in run.app.screen.query("Static"))
        await run.press("escape")
        assert not isinstance(run.app.screen, HelpScreen)
    for owner in OWNERS[:-3]:
        for binding in owner.BINDINGS:
            assert binding.tooltip in shown


async def test_a_first_visit_to_a_screen_restyles_nothing_else(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every stylesheet is read at start; a screen shown for the first time is styled as it mounts. Restyling the
    # whole app on top (twice, as Textual does for a screen it thinks unstyled) cost each switch a tenth of a second.
    restyles: list[str] = []
    monkeypatch.setattr(HvcApp, "refresh_css", lambda app, animate=True: restyles.append(app.current_mode))
    async with dashboard(world) as run:
        await run.press("2")
        assert isinstance(run.app.screen, BoardScreen)
    assert restyles == []


async def test_the_footer_s_keys_are_not_restyled_as_they_mount(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The footer builds its keys again whenever the keys on offer change; Textual's own keys restyled themselves
    # twice each as they mounted (compact by default, then wide), a fifth of the dashboard tests' time.
    restyled: list[str] = []
    update_styles = HvcApp.update_styles

    def counted(app: HvcApp, node: DOMNode, animate: bool = True) -> None:
        if isinstance(node, FooterKey):
            restyled.append(node.key)
        update_styles(app, node, animate)
    monkeypatch.setattr(HvcApp, "update_styles", counted)
    async with dashboard(world) as run:
        await run.press("2")  # another screen: its footer is built with that screen's keys
        await run.open_visit(world.ids["warned"])
        keys = [key.key for key in run.app.screen.query(FooterKey)]
    assert "a" in keys and restyled == []


async def test_a_footer_under_another_screen_does_not_keep_the_dashboard_busy(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # A footer is fitted once its keys are laid out; the footer of a screen under another is never laid out,
    # and waiting on it at every refresh kept the app busy for as long as the visit stayed open.
    fits: list[Footer] = []
    fit = Footer.fit

    def counted(footer: Footer) -> None:
        fits.append(footer)
        fit(footer)
    monkeypatch.setattr(Footer, "fit", counted)
    async with dashboard(world) as run:
        await run.open_visit(world.ids["warned"])
        fits.clear()
        for _ in range(20):  # twenty refreshes with the visit open over the pending list
            run.app.screen.refresh()
            await run.pilot.pause()
    assert len(fits) <= Footer.WAITS


async def test_the_board_s_footer_offers_open_and_reload_where_there_is_room(world: World) -> None:
    async with dashboard(world, mode="board", size=(160, 50)) as run:
        wide = [key.action for key in run.app.screen.query(FooterKey) if key.display]
    async with dashboard(world, mode="board", size=(80, 24)) as run:
        narrow = [key.action for key in run.app.screen.query(FooterKey) if key.display]
    assert "open" in wide and "reload" in wide
    assert narrow[:2] == ["check_in", "acknowledge"] and "open" not in narrow  # at 80 columns, most used first
