"""``hvc watch``: the lone-worker watch, once (cron) or as a daemon, and its drills."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import click

from hv_connector.cli.acting import acting_option
from hv_connector.cli.common import cli, emit_json, json_option, parse_moment, runtime
from hv_connector.cli.config_cmd import disarming_problems
from hv_connector.cli.terminal import LOG_FORMAT, guard_logging, log_echo
from hv_connector.clock import FixedClock
from hv_connector.errors import ConfigError, Interrupted
from hv_connector.text import neutralise
from hv_connector.watch.concerns import concern_pusher
from hv_connector.watch.daemon import run_daemon
from hv_connector.watch.drill import DrillStep, run_drill
from hv_connector.watch.schedule import wall
from hv_connector.watch.tick import TickResult, Watch

WATCH_HELP = """Watch staff who are out: check-in reminders, overdue returns, the school's escalation chain.

Each tick works out from the store what has fallen due, records each event
once (so a restart never repeats or misses one), moves the visit to overdue or
escalated, and tells people through the configured notifiers. The daemon also
pushes urgent CPOMS records (safeguarding concerns) as soon as they are written.

\b
  hvc watch --once          one tick, for cron (every minute)
  hvc watch                 a daemon, ticking every [watch] tick_seconds; stops cleanly on SIGTERM
  hvc watch --drill potton  run Potton's chain against a simulated clock; nothing is sent

\b
Exit codes: 0 done (--once: every notification went out); 1 some notification failed
(it is retried on the next tick, and the escalation is on the board); 2 bad configuration.
"""


@cli.command("watch", help=WATCH_HELP)
@click.option("--once", is_flag=True, help="Run one tick and exit (for cron).")
@click.option("--drill", "drill_school", metavar="SCHOOL", help="Run SCHOOL's chain on a simulated clock and print it.")
@click.option("--code-word", is_flag=True, help="With --drill: the staff use the code word 10 minutes in.")
@click.option("--at", "at", metavar="TIME", help="With --drill: the simulated sign-out time (default now).")
@acting_option(required=False, help="With --drill: who runs the drill (for the audit log; default: you).")
@click.option("--now", "now", metavar="TIME",
              help="TESTS AND TRIALS ONLY: tick as if it were TIME (implies --once). Never use it for real.")
@json_option("Print the tick's (or the drill's) result as JSON.")
@click.pass_context
def watch(ctx: click.Context, once: bool, drill_school: str | None, code_word: bool, at: str | None, by: str | None,
          now: str | None, as_json: bool) -> None:
    rt = runtime(ctx)
    if drill_school is not None:
        rt.school(drill_school)
        start = parse_moment(at, "--at") or rt.clock.now()
        _show_drill(run_drill(Watch.from_runtime(rt), drill_school, start, by=by or "", code_word=code_word), as_json)
        return
    moment = parse_moment(now, "--now")
    if moment is not None:
        rt.clock = FixedClock(moment)
    # A rule the configuration disarms (an option the policy cannot read, a step nobody can take) would
    # only show when staff are already overdue: refuse to start, as `hvc config check` does.
    disarmed = disarming_problems(rt)
    if disarmed:
        raise ConfigError("hvc watch will not start until the configuration is fixed (`hvc config check`):\n  "
                          + "\n  ".join(f"problem: {problem}" for problem in disarmed))
    the_watch = Watch.from_runtime(rt)
    daemon = not (once or moment is not None)
    # Alarms are WARNING lines on stderr (cron's log, journald); the daemon adds an INFO heartbeat per tick.
    guard_logging(level=logging.INFO if daemon else logging.WARNING, format=LOG_FORMAT, stream=sys.stderr)
    if not daemon:
        result = the_watch.tick()
        _show_tick(result, as_json)
        ctx.exit(1 if result.failures else 0)
    stopped_by = run_daemon(the_watch, rt.settings.watch.tick_seconds, concern_pusher(rt),
                            on_tick=lambda r: _show_tick(r, as_json, quiet=True))
    if stopped_by == signal.SIGINT:
        raise Interrupted("stopped by Ctrl-C after finishing its tick; nobody is watching staff who are out "
                          "until it starts again")


def _show_tick(result: TickResult, as_json: bool, *, quiet: bool = False) -> None:
    if as_json:
        emit_json(result.as_json())
        return
    if quiet and not (result.fired or result.failures):
        return
    for event in result.fired:
        step = "" if event.kind == "checkin-reminder" else f" step {event.step_index + 1}"
        log_echo(f"fired   #{event.id} visit {event.visit_id} {event.kind}{step} (due {wall(event.due_at)})")
    for visit_id, state in result.moved:
        log_echo(f"moved   visit {visit_id} → {state}")
    for failure in result.failures:
        log_echo(f"hvc: {failure}", err=True)
    log_echo(f"watch {wall(result.at)}: checked {result.checked}, fired {len(result.fired)}, "
             f"closed {result.closed}, delivered {result.delivered}, failures {len(result.failures)}")


def _show_drill(steps: list[DrillStep], as_json: bool) -> None:
    if as_json:
        emit_json([step.as_json() for step in steps])
        return
    click.echo("DRILL — nothing is sent; this is what the chain would do:")
    for step in steps:
        people = ", ".join(_person(r) for r in step.reaches) or "nobody named in the directory"
        # Names from the directory, the policy's step text: each line one line, whatever they hold.
        click.echo(neutralise(f"{wall(step.at)}  {step.event.kind:<16} → {', '.join(step.event.who)}: {people}"))
        click.echo(neutralise(f"           {step.event.text}"))


def _person(recipient: Any) -> str:
    contact = recipient.mobile or recipient.email
    return f"{recipient.name} ({contact})" if contact else recipient.name
