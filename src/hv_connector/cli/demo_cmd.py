"""``hvc demo``: the whole product on fictional schools, on loopback fake servers."""

from __future__ import annotations

from pathlib import Path

import click

from hv_connector.cli.common import cli
from hv_connector.errors import ConfigError


@cli.command()
@click.option("--home", type=click.Path(path_type=Path), default=Path(".hvc-demo"), show_default=True,
              help="Folder for the demo's configuration, database and logs (emptied first).")
@click.option("--as", "staff", default="bw-dsl-1", show_default=True,
              help="The demo staff member the dashboard runs as.")
@click.option("--no-dashboard", is_flag=True, help="Set everything up and keep it running without the dashboard.")
def demo(home: Path, staff: str, no_dashboard: bool) -> None:
    """Start fake Wonde and CPOMS servers, sync five fictional schools, seed visits in
    every state, run the watch and open the dashboard. Quitting stops it all."""
    try:
        from hvc_fixtures.demo import run_demo
    except ImportError:
        raise ConfigError(
            "the demo needs the fake servers: install hv-connector with its fixtures extra "
            "(`pip install -e '.[fixtures]'`, or `make demo` from a checkout)"
        ) from None
    code = run_demo(home.resolve(), staff=staff, dashboard=not no_dashboard)
    if code:
        raise click.exceptions.Exit(code)
