"""``hvc dashboard``: open the Textual dashboard on the configured store, acting as a named member of staff.

The dashboard package (``hvc_tui``) is imported inside the command, so the
core never imports Textual (the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import click

from hv_connector.cli.acting import acting_option, require_school
from hv_connector.cli.common import cli, runtime
from hv_connector.errors import ConfigError
from hv_connector.visits.service import VisitService
from hv_connector.watch.escalations import Escalations
from hv_connector.watch.tick import Watch

MODES = ("pending", "board", "outbox", "sync", "proposed")


@cli.command("dashboard")
@acting_option(required=False, envvar="HVC_DASHBOARD_AS",
               help="Act as this member of staff (default: you, known by your SSH key or login); or set HVC_DASHBOARD_AS.")
@click.option("--school", "schools", multiple=True, metavar="ID",
              help="Show this school (repeat for more); default: the school of the person acting.")
@click.option("--open", "mode", type=click.Choice(MODES), default="pending", show_default=True,
              help="The screen to open on.")
@click.option("--refresh", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="Seconds between live-board refreshes.")
@click.pass_context
def dashboard(ctx: click.Context, by: str | None, schools: tuple[str, ...], mode: str, refresh: float) -> None:
    """Review, authorise and watch visits in a terminal dashboard (keys: ? for help, Ctrl+P for commands)."""
    rt = runtime(ctx)
    if not by:
        raise ConfigError("name who is using the dashboard: hvc dashboard --as STAFF_ID (or set HVC_DASHBOARD_AS); "
                          "`hvc config show` lists the staff directory")
    for school in schools:
        require_school(ctx, school, f"school {school}'s dashboard")
    from hvc_tui.app import HvcApp
    from hvc_tui.session import Session

    session = Session(VisitService.from_runtime(rt), Escalations(Watch.from_runtime(rt)), by, schools or None)
    HvcApp(session, board_seconds=refresh, mode=mode).run()
