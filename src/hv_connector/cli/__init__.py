"""The ``hvc`` command line: one module per area defines its commands; :data:`COMMANDS` says where.

A command's module (and what it imports: httpx, Textual, Alembic) is loaded
only when that command runs, so ``hvc --version`` and a cron job's ``hvc
status`` do not pay for the rest. A new command goes in its area's module and
gets a line in :data:`COMMANDS`.
"""

from __future__ import annotations

import sys

import click

from hv_connector import __version__
from hv_connector.cli.common import cli
from hv_connector.cli.lazy import LazyCommand
from hv_connector.cli.startup import hold_collector
from hv_connector.cli.terminal import guarded_output
from hv_connector.errors import HvcError

COMMANDS: dict[str, LazyCommand] = {
    "audit": LazyCommand("hv_connector.cli.audit_cmd:audit_group", "The tamper-evident audit log."),
    "config": LazyCommand("hv_connector.cli.config_cmd:config",
                          "Check or show the settings (hvc.toml and HVC_* variables)."),
    "dashboard": LazyCommand("hv_connector.cli.dashboard_cmd:dashboard",
                             "Review, authorise and watch visits in a terminal dashboard "
                             "(keys: ? for help, Ctrl+P for commands)."),
    "db": LazyCommand("hv_connector.cli.db_cmd:db", "The store: upgrade its schema, or show its revision."),
    "demo": LazyCommand("hv_connector.cli.demo_cmd:demo",
                        "Start fake Wonde and CPOMS servers, sync five fictional schools, seed visits in every "
                        "state, run the watch and open the dashboard."),
    "escalation": LazyCommand("hv_connector.cli.escalation_cmd:escalation",
                              "Act on the watch's alarms: acknowledge, escalate now, stand down (staff safe), list."),
    "outbox": LazyCommand("hv_connector.cli.push_cmd:outbox_group",
                          "List, show, confirm and retry the records waiting for (or refused by) each school's sink."),
    "plugins": LazyCommand("hv_connector.cli.plugins_cmd:plugins",
                           "List loaded plugins: name, version, the school they serve, their hooks and rule ids."),
    "policy": LazyCommand("hv_connector.cli.policy_cmd:policy",
                          "Show a school's policy rules, or check a visit against them."),
    "pupil": LazyCommand("hv_connector.cli.sync_cmd:pupil",
                         "Read what the store holds about a pupil; keep the school's restrictions on them."),
    "push": LazyCommand("hv_connector.cli.push_cmd:push",
                        "Send the outbox's due records to each school's sink: concerns first, then routine reports, oldest first."),
    "status": LazyCommand("hv_connector.cli.status_cmd:status",
                          "Say whether the watch is running, and show the last sync and the outbox backlog."),
    "sync": LazyCommand("hv_connector.cli.sync_cmd:sync",
                        "Sync pupil background (contacts, medical, SEN, attendance) from each school's MIS."),
    "visit": LazyCommand("hv_connector.cli.visit_cmd:visit",
                         "Ask for a home visit and take it through its life: authorise, sign out, check in, "
                         "return, report."),
    "watch": LazyCommand("hv_connector.cli.watch_cmd:watch",
                         "Watch staff who are out: check-in reminders, overdue returns, the school's escalation chain."),
}
"""Every ``hvc`` command: name → where it is defined and its line in ``hvc --help``."""

cli.lazy_commands.update(COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Run ``hvc``; turn our errors into a message and an exit code, never a traceback.

    Everything it prints goes through :func:`~hv_connector.cli.terminal.guarded_output`: control
    characters in the text (a pupil's name from the MIS) are shown, never obeyed by the terminal.
    """
    with guarded_output():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
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
    """The ``hvc`` console script: :func:`main` in a process of its own, with a fast start (:mod:`.startup`)."""
    hold_collector()
    sys.exit(main())


__all__ = ["COMMANDS", "__version__", "cli", "main"]
