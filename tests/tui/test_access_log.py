"""The dashboard records who was shown what: the pending list, and the visit screen with its pupil briefing."""

from __future__ import annotations

from dashkit import World
from pilotkit import dashboard
from sqlalchemy import select

from hv_connector.store.schema import access_log
from hvc_tui.screens.visit import VisitScreen


async def test_opening_a_visit_records_the_visit_and_its_pupil_for_the_person_signed_in(world: World) -> None:
    visit_id = world.ids["warned"]
    async with dashboard(world) as run:
        await run.press("enter")  # the first pending row
        assert isinstance(run.app.screen, VisitScreen) and run.app.screen.visit_id == visit_id
        await run.settle()
    with world.store.connect() as conn:
        rows = conn.execute(select(access_log).order_by(access_log.c.id)).mappings().all()
    pending = [r for r in rows if r["via"] == "dashboard: pending"]
    assert pending and {r["actor"] for r in rows} == {"pt-head"}
    assert visit_id in {r["record_id"] for r in pending}
    opened = [(r["kind"], r["record_id"]) for r in rows if r["via"] == "dashboard: visit"]
    assert opened[0] == ("visit", visit_id) and [kind for kind, _ in opened[1:]] == ["pupil"]
