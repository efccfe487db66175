"""Pictures of every screen at 80×24 and 160×50, on the seeded world with its clock fixed at 09:36.

Update them (after looking at the differences) with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from dashkit import World
from pilotkit import settle
from textual.pilot import Pilot

from hvc_tui.app import HvcApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _app(world: World, mode: str = "pending") -> HvcApp:
    return HvcApp(world.session(), board_seconds=3600, mode=mode)


@pytest.mark.parametrize("size", SIZES)
def test_pending_review(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_live_board(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world, "board"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_visit_with_a_block_and_a_warning(world: World, size: tuple[int, int], snap_compare) -> None:
    async def open_visit(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.open_visit(world.ids["blocked"])
        await settle(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=open_visit)


@pytest.mark.parametrize("size", SIZES)
def test_request_form(world: World, size: tuple[int, int], snap_compare) -> None:
    async def open_form(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False  # a blinking cursor would make each picture differ
        await settle(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=open_form)


@pytest.mark.parametrize("size", SIZES)
def test_visits(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world, "visits"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_outbox(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world, "outbox"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_outbox_record(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world, "outbox"), terminal_size=size, run_before=_open_with(world, "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_sync_status(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world, "sync"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_report_form(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world), terminal_size=size, run_before=_open_with(world, "w", "returned"))


@pytest.mark.parametrize("size", SIZES)
def test_help(world: World, size: tuple[int, int], snap_compare) -> None:
    assert snap_compare(_app(world), terminal_size=size, run_before=_open_with(world, "question_mark"))


def _open_with(world: World, key: str, visit: str | None = None):
    """Open the visit (if given), press ``key`` and wait for what it opens, its text boxes' cursors still."""
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        if visit is not None:
            pilot.app.open_visit(world.ids[visit])
            await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        await settle(pilot)
    return run_before


def test_authorise_dialog(world: World, snap_compare) -> None:
    """Nothing ticked; the sign-out block listed with the key that overrides it."""
    assert snap_compare(_app(world), terminal_size=(80, 24), run_before=_open_with(world, "a", "blocked"))


def test_override_dialog(world: World, snap_compare) -> None:
    """The block unticked, its reason box closed until it is ticked."""
    assert snap_compare(_app(world), terminal_size=(80, 24), run_before=_open_with(world, "v", "blocked"))


def test_stand_down_question(world: World, snap_compare) -> None:
    """The question wraps; No has the focus."""
    assert snap_compare(_app(world, "board"), terminal_size=(80, 24), run_before=_open_with(world, "x"))


@pytest.mark.parametrize("size", SIZES)
def test_proposed_visits(world: World, size: tuple[int, int], snap_compare) -> None:
    """Potton's attendance against its triggers: the worklist, the highlighted proposal's figures and clause."""
    from hv_connector.proposals.refresh import refresh_school

    with world.store.begin() as conn:
        refresh_school(conn, "potton", world.service.policies.triggers("potton"), now=world.clock.now(),
                       recent_visit_days=14)
    assert snap_compare(_app(world, "proposed"), terminal_size=size, run_before=settle)
