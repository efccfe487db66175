"""``hvc status``: is the watch running, when did each school last sync, what waits for CPOMS."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import Connection, func, select

from hv_connector.outbox import queue as outbox
from hv_connector.cli.common import cli, emit_json, runtime
from hv_connector.watch.schedule import utc
from hv_connector.store.schema import HEARTBEAT, escalations, heartbeats, notifications, sync_runs

STATUS_HELP = """Say whether the watch is running, and show the last sync and the outbox backlog.

\b
Exit codes (for a monitoring check):
  0  the watch ticked within [watch] heartbeat_stale_minutes
  1  the watch has stopped or never ran: a stopped watch is itself an alarm
"""


@cli.command("status", help=STATUS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    rt = runtime(ctx)
    now = utc(rt.clock.now())
    stale_after = timedelta(minutes=rt.settings.watch.heartbeat_stale_minutes)
    with rt.store.connect() as conn:
        report = {"watch": _watch(conn, now, stale_after), "sync": _syncs(conn), "outbox": outbox.counts(conn),
                  "escalations": _escalations(conn)}
    if as_json:
        emit_json(report)
    else:
        _print(report)
    ctx.exit(0 if report["watch"]["running"] else 1)


def _watch(conn: Connection, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    row = conn.execute(select(heartbeats.c.at, heartbeats.c.detail).where(heartbeats.c.name == HEARTBEAT)).one_or_none()
    if row is None:
        return {"running": False, "last_tick": None,
                "message": "the watch has never run: start it (`hvc watch`, or the systemd timer in deploy/systemd)"}
    age = now - utc(row.at)
    running = age <= stale_after
    minutes = int(age.total_seconds() // 60)
    message = (f"the watch ticked {minutes} min ago" if running else
               f"THE WATCH HAS STOPPED: last tick {minutes} min ago (alarm after {int(stale_after.total_seconds() // 60)}"
               " min): nobody is watching staff who are out — restart it (`systemctl start hvc-watch`)")
    return {"running": running, "last_tick": utc(row.at).isoformat(), "minutes_ago": minutes,
            "detail": row.detail or {}, "message": message}


def _syncs(conn: Connection) -> list[dict[str, Any]]:
    latest = (select(sync_runs.c.school_id, func.max(sync_runs.c.id).label("id"))
              .group_by(sync_runs.c.school_id).subquery())
    rows = conn.execute(select(sync_runs).join(latest, sync_runs.c.id == latest.c.id)
                        .order_by(sync_runs.c.school_id)).mappings()
    return [{"school": r["school_id"], "status": r["status"],
             "finished_at": r["finished_at"].isoformat() if r["finished_at"] else None, "message": r["message"]}
            for r in rows]


def _escalations(conn: Connection) -> dict[str, int]:
    open_count = conn.execute(select(func.count()).select_from(escalations)
                              .where(escalations.c.closed_at.is_(None), escalations.c.kind != "checkin-reminder")
                              ).scalar_one()
    failed = conn.execute(select(func.count()).select_from(notifications)
                          .where(notifications.c.status.in_(("failed", "retrying")))).scalar_one()
    return {"open": open_count, "notifications_failing": failed}


def _print(report: dict[str, Any]) -> None:
    click.echo(f"watch: {report['watch']['message']}")
    escal = report["escalations"]
    click.echo(f"escalations: {escal['open']} open, {escal['notifications_failing']} notification(s) failing")
    for sync in report["sync"]:
        click.echo(f"sync {sync['school']}: {sync['status']} at {sync['finished_at'] or '(running)'}"
                   + (f" — {sync['message']}" if sync["message"] else ""))
    if report["outbox"]:
        click.echo("outbox: " + ", ".join(f"{n} {status}" for status, n in sorted(report["outbox"].items())))
