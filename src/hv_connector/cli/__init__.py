"""The ``hvc`` command line: one module per area adds its commands to the root group."""

from __future__ import annotations

import sys

import click

from hv_connector import __version__
from hv_connector.cli import (
    audit_cmd,
    config_cmd,
    dashboard_cmd,
    db_cmd,
    demo_cmd,
    escalation_cmd,
    plugins_cmd,
    policy_cmd,
    push_cmd,
    status_cmd,
    sync_cmd,
    visit_cmd,
    watch_cmd,
)
from hv_connector.cli.common import cli
from hv_connector.errors import HvcError

COMMAND_MODULES = (
    policy_cmd, plugins_cmd, visit_cmd, config_cmd, db_cmd, audit_cmd, push_cmd, sync_cmd, dashboard_cmd, demo_cmd,
    watch_cmd, escalation_cmd, status_cmd,
)
"""Modules that add commands to :data:`cli` (imported for their side effect)."""


def main(argv: list[str] | None = None) -> int:
    """Run ``hvc``; turn our errors into a message and an exit code, never a traceback."""
    try:
        # Without standalone mode click returns (not raises) the code a command exits with.
        code = cli.main(args=argv, prog_name="hvc", standalone_mode=False)
    except HvcError as exc:
        click.echo(f"hvc: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("hvc: aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


__all__ = ["COMMAND_MODULES", "__version__", "cli", "main"]
