"""At 80×24 every list keeps the facts that matter whole (the pupil, on the board the staff): the columns to the
right give way first, and a date drops its year only where its column is too narrow for it."""

from __future__ import annotations

import pytest
from dashkit import CODE_WORD_BLOCK, PUPILS, REVIEW_WARNING, World
from pilotkit import Run, dashboard
from rich.cells import cell_len

from hvc_tui.widgets.footer import Footer
from hvc_tui.widgets.stable_table import StableTable

LONGEST = max((display for _, _, _, display, _ in PUPILS), key=cell_len)
"""The longest pupil name in the seeded world (``[bold red]Test[/]``: console markup, kept literal)."""


def put_out(world: World, name: str) -> None:
    """Override the visit's block, authorise it and sign its staff out: the longest name goes on the board too."""
    visit_id = world.ids[name]
    world.service.override(visit_id, CODE_WORD_BLOCK, by="pt-head", reason="code word agreed by phone")
    world.service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    world.service.sign_out(visit_id, by="pt-office")


def table_lines(run: Run) -> list[str]:
    """The table's rows as the screen shows them (what is past the right edge is not there)."""
    region = run.app.screen.query_one(StableTable).region
    return run.screen_lines()[region.y + 1:region.bottom]  # below the header


@pytest.mark.parametrize("mode", ["pending", "visits", "board"])
async def test_the_longest_pupil_name_shows_whole_at_80_columns(world: World, mode: str) -> None:
    if mode == "board":
        put_out(world, "blocked")
    async with dashboard(world, mode=mode, size=(80, 24)) as run:
        rows = table_lines(run)
    assert any(LONGEST in row for row in rows), "\n".join(rows)


async def test_the_board_at_80_columns_names_every_visit_s_staff_whole(world: World) -> None:
    async with dashboard(world, mode="board", size=(80, 24)) as run:
        board = run.app.screen
        rows = table_lines(run)
        staff = [row.staff for row in board.rows.values()]
    assert staff and all(any(names in line for line in rows) for names in staff), "\n".join(rows)


async def test_a_wide_screen_shows_the_year_a_narrow_one_drops_only_it(world: World) -> None:
    async with dashboard(world, mode="pending", size=(160, 50)) as wide:
        wide_rows = table_lines(wide)
    async with dashboard(world, mode="pending", size=(80, 24)) as narrow:
        narrow_rows = table_lines(narrow)
    assert any("Mon 23 Nov 2026 10:00" in row for row in wide_rows)
    assert any("Mon 23 Nov 10:00  " in row for row in narrow_rows) and not any("2026" in r for r in narrow_rows)


async def test_what_does_not_fit_at_80_columns_is_a_scroll_to_the_right_away(world: World) -> None:
    async with dashboard(world, mode="pending", size=(80, 24)) as run:
        before = run.screen_lines()
        await run.press(*["right"] * 60)
        after = run.screen_lines()
    assert not any("v-0000000001" in line for line in before)
    assert any("v-0000000001" in line for line in after)


async def test_back_from_a_visit_at_80_columns_the_list_s_footer_keys_are_whole(world: World) -> None:
    # The list's footer is rebuilt and fitted again as its screen comes back, not left as it was measured under
    # the visit (where it is never laid out).
    async with dashboard(world, size=(80, 24)) as run:
        await run.open_visit(world.ids["warned"])
        await run.press("escape")
        footer = run.screen_lines()[-1]
    assert "o Open" in footer and "? Help" in footer  # unfitted, the keys run on past the edge: "123456 Scre"


@pytest.mark.parametrize(("mode", "width"), [("board", 115), ("board", 127), ("pending", 91)])
async def test_the_footer_s_last_key_is_whole_where_the_screens_group_only_just_fits(world: World, mode: str,
                                                                                   width: int) -> None:
    # The "123456 Screens" group keeps a cell after its keys and one after its label: counted, or the last key
    # shown runs under the palette's key ("? Hel▏^p palette").
    async with dashboard(world, mode=mode, size=(width, 24)) as run:
        footer = run.app.screen.query_one(Footer)
        line = run.screen_lines()[-1]
        assert footer.virtual_size.width <= footer.size.width, line
    assert " ▏^p palette" in line, line
