"""The board answers "is everyone safe?" at a glance: the table keeps the facts that fit under headers that say
what the cells hold, and the highlighted visit's facts are whole under it, mobiles and escalation step included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashkit import World
from pilotkit import Run, dashboard
from test_narrow_layout import put_out, table_lines

from hvc_tui.screens.board import step_name
from hvc_tui.widgets.stable_table import StableTable

MOBILES = "Ash Visitor 07700 900305, Sky Second 07700 900306"
FIRST_STEP = "Phone the visiting staff on the mobile numbers in the log."
"""What Potton's first escalation step asks of the office."""


def detail_text(run: Run) -> str:
    """The detail pane under the board's table as the screen shows it, its wrapped lines joined again."""
    region = run.app.screen.query_one("#detail").region
    lines = run.screen_lines()[region.y:region.bottom]
    return re.sub(r"\s+", " ", " ".join(lines))


def header(run: Run) -> str:
    region = run.app.screen.query_one(StableTable).region
    return run.screen_lines()[region.y]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_highlighted_visit_s_mobiles_and_escalation_step_are_on_screen(world: World,
                                                                                 size: tuple[int, int]) -> None:
    async with dashboard(world, mode="board", size=size) as run:
        assert run.app.screen.query_one(StableTable).selected_key == world.ids["overdue"]
        shown = detail_text(run)
    assert f"Staff: {MOBILES}" in shown
    assert f"Escalation step 1 of 3, for office: ‼ {FIRST_STEP}" in shown
    assert "last contact 08:56 (office-call) · due back 09:25 · ▲ OVERDUE 11m" in shown
    assert "أحمد خان · visit v-" in shown


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 50), (300, 50)])
async def test_the_staff_header_never_claims_mobiles_the_column_does_not_show(world: World,
                                                                            size: tuple[int, int]) -> None:
    async with dashboard(world, mode="board", size=size) as run:
        top, rows = header(run), table_lines(run)
    claims = "Staff and mobiles" in top
    assert claims == any(MOBILES in row for row in rows), f"{top}\n{rows}"
    assert claims or re.search(r"\bStaff\b", top)
    assert claims == (size[0] >= 300)  # mobiles in the table only where the whole row fits


async def test_moving_the_highlight_shows_the_other_visit_s_facts(world: World) -> None:
    async with dashboard(world, mode="board", size=(80, 24)) as run:
        before = detail_text(run)
        await run.press("down")
        after = detail_text(run)
        await run.press("up")
        again = detail_text(run)
    assert "Noa 🦊 Emoji · visit" in after and "Escalation: none open" in after
    assert "Next check-in 10:10: Office: phone the visiting staff 10 minutes after the scheduled start." in after
    assert after != before and again == before


async def test_a_board_refresh_updates_the_highlighted_visit_s_facts_in_place(world: World) -> None:
    async with dashboard(world, mode="board", size=(120, 40)) as run:
        await run.press("down")
        pane = run.app.screen.query_one("#detail")
        assert "Escalation: none open" in detail_text(run)
        world.clock.set(world.clock.now() + timedelta(hours=1, minutes=20))  # 10:56: the 10:40 visits are late
        world.escalations.watch.tick()
        await run.press("f5")
        assert run.app.screen.query_one("#detail") is pane
        assert run.app.screen.query_one(StableTable).selected_key == world.ids["out"]
        shown = detail_text(run)
        row = run.app.screen.rows[world.ids["out"]]
    assert "Noa 🦊 Emoji · visit" in shown and "‼ ESCALATED 16m" in shown and "Escalation: none open" not in shown
    assert row.asks and f"Escalation {step_name(row, of=True)}, for " in shown and f"‼ {row.asks}" in shown


async def test_at_120_columns_every_row_s_escalation_step_says_what_to_do_without_scrolling(world: World) -> None:
    put_out(world, "blocked")
    world.clock.set(world.clock.now() + timedelta(hours=1, minutes=20))  # every visit late, each at its own step
    world.escalations.watch.tick()
    async with dashboard(world, mode="board", size=(120, 40)) as run:
        board = run.app.screen
        rows = table_lines(run)
        out = list(board.rows.values())
    assert len(out) == 3 and all(row.asks for row in out)
    for row in out:
        words = f"{step_name(row)} ‼ {(row.asks or '')[:12]}"
        assert any(row.pupil in line and words in line for line in rows), f"{words}\n" + "\n".join(rows)
