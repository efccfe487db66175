"""The Proposed screen (key 6): the worklist from attendance, most urgent first, decided from the keyboard."""

from __future__ import annotations

from dashkit import World
from pilotkit import dashboard, fill
from sqlalchemy import delete, func, select

from hv_connector.proposals.refresh import refresh_school
from hv_connector.store.schema import access_log, audit, proposals, pupil_session_marks
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.messages import ProposalDecided, ProposalsLoaded
from hvc_tui.screens.proposed import ProposedScreen
from hvc_tui.widgets.stable_table import StableTable


def refresh(world: World) -> int:
    with world.store.begin() as conn:
        done = refresh_school(conn, "potton", world.service.policies.triggers("potton"), now=world.clock.now(),
                              recent_visit_days=0)
    return done.opened


async def worklist(run) -> ProposedScreen:  # type: ignore[no-untyped-def]
    """Press 6 and give the Proposed screen, read."""
    await run.press("6")
    screen = run.app.screen
    assert isinstance(screen, ProposedScreen) and run.posted(ProposalsLoaded)
    return screen


async def test_key_6_lists_every_open_proposal_most_urgent_first_with_its_figures(world: World) -> None:
    opened = refresh(world)
    async with dashboard(world) as run:
        screen = await worklist(run)
        table = screen.query_one(StableTable)
        assert opened > 0 and table.row_count == opened
        ranks = [screen.rows[str(key.value)].trigger.urgency.rank for key in table.rows]
        assert ranks == sorted(ranks)
        why = str(screen.query_one("#why").render())
        assert "%" in why or "sessions" in why  # the highlighted proposal's figures and clause
        assert f"{opened} open proposals, all shown" in str(screen.query_one("#status").render())


async def test_accepting_requests_a_visit_through_the_normal_path_and_is_audited(world: World) -> None:
    refresh(world)
    async with dashboard(world) as run:
        screen = await worklist(run)
        first = next(r for r in screen.rows.values() if r.trigger.proposes.value == "visit")
        screen.query_one(StableTable).move_cursor(row=list(screen.rows).index(first.id))
        await run.opens("a", ConfirmDialog)
        await run.press("y")
        [decided] = run.posted(ProposalDecided)
        assert decided.decision.visit is not None  # type: ignore[attr-defined]
        assert first.id not in screen.rows  # read again: no longer open
    with world.store.connect() as conn:
        assert conn.execute(select(proposals.c.status).where(proposals.c.id == first.id)).scalar() == "accepted"
        assert conn.execute(select(audit.c.actor).where(audit.c.action == "proposal.accept")).scalar() == "pt-head"


async def test_dismissing_asks_for_a_reason_and_keeps_it(world: World) -> None:
    refresh(world)
    async with dashboard(world) as run:
        screen = await worklist(run)
        key = screen.selected_key
        dialog = await run.opens("d", DecisionDialog)
        fill(dialog, {"text": "Family moved; CME referral made"})
        await run.press("ctrl+s")
        assert run.posted(ProposalDecided)
    with world.store.connect() as conn:
        note = conn.execute(select(proposals.c.note).where(proposals.c.id == key)).scalar()
    assert note == "Family moved; CME referral made"


async def test_a_refusal_by_role_is_shown_and_the_screen_stays_up(world: World) -> None:
    refresh(world)
    async with dashboard(world, actor="pt-office") as run:
        await run.press("6")
        await run.opens("a", ConfirmDialog)
        await run.press("y")
        assert any("may not decide" in n for n in run.notices("error"))


async def test_a_school_without_attendance_says_why_instead_of_an_empty_list(world: World) -> None:
    with world.store.begin() as conn:
        conn.execute(delete(pupil_session_marks))
    refresh(world)
    async with dashboard(world) as run:
        await run.press("6")
        status = str(run.app.screen.query_one("#status").render())
    assert "0 open proposals" in status and "potton: no proposals — Register: not available" in status


async def test_a_long_worklist_shows_the_most_urgent_and_says_how_many_more(world: World, monkeypatch) -> None:
    opened = refresh(world)
    monkeypatch.setattr(ProposedScreen, "PAGE", 2)
    async with dashboard(world) as run:
        screen = await worklist(run)
        table = screen.query_one(StableTable)
        first, status = table.row_count, str(screen.query_one("#status").render())
        with world.store.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(access_log)
                                  .where(access_log.c.via == "dashboard: proposed")).scalar()
        await run.press("m")
        second = table.row_count
    assert opened > 4
    assert first == 2 and f"the 2 most urgent of {opened} open proposals shown" in status and "m: 2 more" in status
    assert logged == 2  # only what was put on screen is logged as read
    assert second == 4
