"""``hvc dashboard``: open the Textual dashboard on the configured store, acting as a named member of staff.

The dashboard package (``hvc_tui``) is imported inside the command, so the
core never imports Textual (the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from hv_connector.cli.acting import acting_option, require_school
from hv_connector.cli.common import Choice, cli, runtime
from hv_connector.errors import ConfigError
from hv_connector.visits.service import VisitService
from hv_connector.watch.escalations import Escalations
from hv_connector.watch.tick import Watch

if TYPE_CHECKING:
    from hv_connector.sync.pipeline import SchoolResult

MODES = ("pending", "board", "outbox", "sync", "visits", "proposed")


@cli.command("dashboard")
@acting_option(required=False, envvar="HVC_DASHBOARD_AS",
               help="Act as this member of staff (default: you, known by your SSH key or login); or set HVC_DASHBOARD_AS.")
@click.option("--school", "schools", multiple=True, metavar="ID",
              help="Show this school (repeat for more); default: the school of the person acting.")
@click.option("--open", "mode", type=Choice(MODES),
              help="The screen to open on (default: pending for those who authorise, board for everyone else).")
@click.option("--refresh", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="Seconds between live-board refreshes.")
@click.option("--quit-stops", metavar="TEXT",
              help="What quitting also stops (the demo names its watch and servers): Ctrl+Q asks first, saying so.")
@click.pass_context
def dashboard(ctx: click.Context, by: str | None, schools: tuple[str, ...], mode: str | None, refresh: float,
              quit_stops: str | None) -> None:
    """Review, authorise and watch visits in a terminal dashboard (keys: ? for help, Ctrl+P for commands)."""
    rt = runtime(ctx)
    if not by:
        raise ConfigError("name who is using the dashboard: hvc dashboard --as STAFF_ID (or set HVC_DASHBOARD_AS); "
                          "`hvc config show` lists the staff directory")
    for school in schools:
        require_school(ctx, school, f"school {school}'s dashboard")
    from hvc_tui import remembered
    from hvc_tui.app import HvcApp
    from hvc_tui.session import Session

    def sync_now(chosen: Sequence[str]) -> list[SchoolResult]:
        """``hvc sync`` of the ``chosen`` schools, for the dashboard's "sync now"."""
        import asyncio

        from hv_connector.cli.sync_cmd import build_adapters
        from hv_connector.sync.pipeline import sync_schools

        return asyncio.run(sync_schools(rt.store, build_adapters(rt, chosen), clock=rt.clock))

    session = Session(VisitService.from_runtime(rt), Escalations(Watch.from_runtime(rt)), by, schools or None,
                      sync=sync_now)
    HvcApp(session, board_seconds=refresh, mode=mode, remember=remembered.default_path(), quit_stops=quit_stops).run()
