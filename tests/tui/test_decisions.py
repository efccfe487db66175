"""Decisions in the dashboard are deliberate: nothing is ticked when a dialog opens, Enter decides nothing,
each warning is acknowledged by its own tick and each block overridden by its own tick and reason.

Every test asserts on the store (the visit's state, its acknowledgements and overrides), through the real
visit service, not on the dialog's fields alone.
"""

from __future__ import annotations

import pytest
from dashkit import CODE_WORD_BLOCK, INJECTION, REVIEW_WARNING, World, request
from pilotkit import Run, dashboard
from sqlalchemy import select
from textual.geometry import Region
from textual.widgets import Input, Label

from hv_connector.store.schema import acknowledgements, escalations, overrides, visits
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.override import OverrideDialog
from hvc_tui.dialogs.rules import Tick
from hvc_tui.messages import EscalationActed, VisitActed

PARENT_WARNING = "potton.parent-agreement"
RISK_BLOCK = "potton.risk-assessment"


def _decided(world: World, visit_id: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    """The visit's state, the warnings acknowledged on it, and the blocks overridden (with their reasons)."""
    with world.store.connect() as conn:
        state = conn.execute(select(visits.c.state).where(visits.c.id == visit_id)).scalar_one()
        acked = conn.execute(select(acknowledgements.c.rule_id).where(acknowledgements.c.visit_id == visit_id)
                             .order_by(acknowledgements.c.id)).scalars().all()
        overridden = conn.execute(select(overrides.c.rule_id, overrides.c.reason)
                                  .where(overrides.c.visit_id == visit_id).order_by(overrides.c.id)).all()
    return state, list(acked), [tuple(row) for row in overridden]


def _problem(run: Run) -> str:
    return str(run.app.screen.query_one("#problem", Label).render())


def _two_warnings(world: World) -> str:
    """A request Potton warns about twice: no parent agreement, and the overdue policy review."""
    return world.service.request(request("A1000000002", parent_agreement=False), by="pt-v1").record.id


def _two_blocks(world: World) -> str:
    """A request with no risk assessment: blocked at authorising (no assessment) and at sign-out (no code word)."""
    return world.service.request(request("A1000000002", risk_assessment=None), by="pt-v1").record.id


@pytest.mark.parametrize(("key", "visit", "dialog"), [
    pytest.param("a", "blocked", DecisionDialog, id="authorise"),
    pytest.param("k", "warned", DecisionDialog, id="acknowledge"),
    pytest.param("v", "blocked", OverrideDialog, id="override"),
    pytest.param("d", "warned", DecisionDialog, id="decline"),
])
async def test_enter_at_once_decides_nothing(world: World, key: str, visit: str, dialog: type) -> None:
    visit_id = world.ids[visit]
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        await run.press(key)
        assert isinstance(run.app.screen, dialog)
        assert not any(tick.value for tick in run.app.screen.query(Tick))  # nothing ticked to start
        await run.press("enter", "enter")
        assert isinstance(run.app.screen, dialog)  # still asking
        assert not run.posted(VisitActed)
    assert _decided(world, visit_id) == ("requested", [], [])


async def test_enter_at_once_in_a_confirmation_answers_no(world: World) -> None:
    visit_id = world.ids["overdue"]
    async with dashboard(world, mode="board") as run:
        await run.press("x")  # stand down: "are … safe?"
        assert isinstance(run.app.screen, ConfirmDialog)
        await run.press("enter")
        assert not isinstance(run.app.screen, ConfirmDialog)
        assert not run.posted(EscalationActed)
    with world.store.connect() as conn:
        closed = conn.execute(select(escalations.c.closed_at).where(escalations.c.visit_id == visit_id)).scalars()
        assert list(closed) == [None]  # the step is still open: nobody stood down


async def test_ticking_one_warning_of_two_acknowledges_exactly_that_one(world: World) -> None:
    visit_id = _two_warnings(world)
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        await run.press("k")
        assert [f.rule_id for f in run.app.screen.warnings] == [PARENT_WARNING, REVIEW_WARNING]
        await run.press("tab", "space")  # the second warning's tick
        await run.press("ctrl+s")
        assert [m.result.event for m in run.posted(VisitActed)] == ["ack"]
    assert _decided(world, visit_id) == ("requested", [REVIEW_WARNING], [])
    assert [f.rule_id for f in world.service.standing(visit_id).unacknowledged()] == [PARENT_WARNING]


async def test_authorising_with_a_warning_unticked_is_refused_in_the_dialog(world: World) -> None:
    visit_id = _two_warnings(world)
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        dialog = await run.opens("a", DecisionDialog)
        await run.press("space", "ctrl+s")  # only the first warning ticked
        assert run.app.screen is dialog
        assert _problem(run) == (f"Tick each warning to acknowledge it: {REVIEW_WARNING} is not ticked yet.")
        assert not run.notices("error")  # said by the dialog, not refused by the service afterwards
        assert _decided(world, visit_id) == ("requested", [], [])
        await run.press("tab", "space", "ctrl+s")
    assert _decided(world, visit_id) == ("authorised", [PARENT_WARNING, REVIEW_WARNING], [])


async def test_the_authorise_dialog_lists_the_blocks_that_stand_and_the_key_that_overrides_them(
        world: World) -> None:
    visit_id = _two_blocks(world)
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        dialog = await run.opens("a", DecisionDialog)
        listed = " ".join(str(label.render()) for label in dialog.query_one("#rules").query(Label))
        await run.press("space", "ctrl+s")
        assert run.app.screen is dialog and not run.notices("error")
        problem = _problem(run)
    assert RISK_BLOCK in listed and CODE_WORD_BLOCK in listed and "press v on the visit to override" in listed
    assert problem.startswith(f"{RISK_BLOCK} still stands") and "press v on the visit" in problem
    assert "hvc visit" not in listed + problem  # no command to type
    assert _decided(world, visit_id) == ("requested", [], [])


async def test_each_block_is_overridden_by_its_own_tick_and_its_own_reason(world: World) -> None:
    visit_id = _two_blocks(world)
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        dialog = await run.opens("v", OverrideDialog)
        reasons = list(dialog.query(".reason").results(Input))
        assert [r.disabled for r in reasons] == [True, True]  # a reason box opens with its tick
        await run.press("space")
        await run.pilot.press(*"Assessed by phone")
        await run.press("ctrl+s")  # the code-word block is not ticked: only the first is overridden
        assert [m.result.event for m in run.posted(VisitActed)] == ["override"]
        dialog = await run.opens("v", OverrideDialog)
        assert [f.rule_id for f in dialog.blocks] == [CODE_WORD_BLOCK]
        await run.press("space", "ctrl+s")  # ticked, but no reason: refused in the dialog
        assert run.app.screen is dialog
        assert _problem(run) == (f"Write why {CODE_WORD_BLOCK} may be overridden: "
                                 "each ticked block needs its own reason.")
        await run.pilot.press(*"Word agreed by text")
        await run.press("ctrl+s")
    assert _decided(world, visit_id) == ("requested", [], [(RISK_BLOCK, "Assessed by phone"),
                                                           (CODE_WORD_BLOCK, "Word agreed by text")])


async def test_overriding_with_nothing_ticked_is_refused_in_the_dialog(world: World) -> None:
    visit_id = world.ids["blocked"]
    async with dashboard(world) as run:
        await run.open_visit(visit_id)
        await run.press("v")
        await run.press("ctrl+s")
        assert isinstance(run.app.screen, OverrideDialog)
        assert _problem(run) == "Tick the blocks you override: none is ticked yet."
    assert _decided(world, visit_id) == ("requested", [], [])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_long_question_wraps_and_shows_mis_names_as_written(world: World, size: tuple[int, int]) -> None:
    question = (f"Stand down for v-0000000005: are Mr Seán Walsh, Ms Mei Chen and {INJECTION} "
                "(who phoned from the car park on Potton High Street) safe, and back at school?")
    async with dashboard(world, size=size) as run:
        run.app.push_screen(ConfirmDialog(question))
        await run.settle()
        label = run.app.screen.query(Label).first()
        lines = [strip.text.strip() for strip in label.render_lines(Region(0, 0, *label.size))]
        inside = run.app.screen.query_one("Vertical").content_region.contains_region(label.region)
    assert " ".join(lines) == question  # every word shown, markup as written
    assert len(lines) > 1 and inside
