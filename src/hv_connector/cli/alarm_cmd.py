"""``hvc alarm UNIT``: tell people that a scheduled job failed, through hv-connector's own notifiers."""

from __future__ import annotations

import logging
import socket

import click

from hv_connector.cli.common import cli, runtime
from hv_connector.cli.terminal import guard_logging
from hv_connector.text import neutralise


@cli.command("alarm")
@click.argument("unit")
@click.pass_context
def alarm(ctx: click.Context, unit: str) -> None:
    """Tell the DSLs and office that a scheduled job failed, through the configured notifiers.

    UNIT is what failed (systemd's OnFailure= passes it); DSLs, office managers and admins are told. Exits 1,
    logging at CRITICAL, when a notifier could not deliver it."""
    from hv_connector.visits.directory import Directory
    from hv_connector.watch.alarm import alarm_notice, raise_alarm
    from hv_connector.watch.notify import load_notifiers

    guard_logging(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    rt = runtime(ctx)
    settings = rt.settings
    notice = alarm_notice(unit, socket.gethostname(), rt.clock.now(), Directory.from_settings(settings))
    result = raise_alarm(notice, load_notifiers(rt.pm, settings, settings.watch.notifiers.configured()))
    for where in result.delivered:
        click.echo(f"Alarm sent: {where}")
    for where, why in result.failed.items():
        click.echo(neutralise(f"hvc: ALARM NOT DELIVERED to {where}: {why}"), err=True)  # a notifier's error: one line
    if result.failed:
        ctx.exit(1)
