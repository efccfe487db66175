"""``hvc status``: is the watch running, when did each school last sync, what waits for CPOMS."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import Connection, func, select

from hv_connector import humanize
from hv_connector.cli.common import cli, emit_json, runtime
from hv_connector.clock import utc
from hv_connector.read.queries import SyncRow, outbox_counts, outbox_to_check, sync_status
from hv_connector.store.rows import MAY_BE_TWICE
from hv_connector.store.tables.watch import HEARTBEAT, WATCH_PREFIX, escalations, heartbeats, notifications
from hv_connector.text import neutralise

STATUS_HELP = """Say whether the watch is running, and show the last sync and the outbox backlog.

It also counts the records that may be in CPOMS twice (sent again after a lost
answer, when nothing could tell whether the first send was stored): check CPOMS
and merge the copies (`hvc outbox list` marks them), then say what you found
with `hvc outbox checked ID --found one|two --as STAFF`.

\b
Exit codes (for a monitoring check):
  0  the watch ticked within [watch] heartbeat_stale_minutes
  1  the watch has stopped or never ran (a stopped watch is itself an alarm),
     or a school's policy plugin is broken (its visits get the core's default chain)
"""


@cli.command("status", help=STATUS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    rt = runtime(ctx)
    now = utc(rt.clock.now())
    stale_after = timedelta(minutes=rt.settings.watch.heartbeat_stale_minutes)
    with rt.store.connect() as conn:
        runs, _held = sync_status(conn, limit=0)
        report: dict[str, Any] = {"watch": _watch(conn, now, stale_after), "watches": _alive(conn, now, stale_after),
                                  "sync": [_sync_json(r) for r in runs],
                                  "outbox": outbox_counts(conn), "outbox_may_be_twice": outbox_to_check(conn),
                                  "escalations": _escalations(conn)}
    report["broken_plugins"] = [{"plugin": b.name, "schools": list(b.schools), "error": b.error}
                                for b in rt.policies.broken()]
    if as_json:
        emit_json(report)
    else:
        _print(report, runs)
    ctx.exit(0 if report["watch"]["running"] and not report["broken_plugins"] else 1)


def _watch(conn: Connection, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    row = conn.execute(select(heartbeats.c.at, heartbeats.c.detail).where(heartbeats.c.name == HEARTBEAT)).one_or_none()
    if row is None:
        return {"running": False, "last_tick": None,
                "message": "the watch has never run: start it (`hvc watch`, or the systemd timer in deploy/systemd)"}
    age = now - utc(row.at)
    running = age <= stale_after
    minutes = int(age.total_seconds() // 60)
    message = (f"the watch ticked {humanize.duration(age)} ago" if running else
               f"THE WATCH HAS STOPPED: last tick {humanize.duration(age)} ago (alarm after "
               f"{humanize.duration(stale_after)}): nobody is watching staff who are out — restart it "
               "(`systemctl start hvc-watch`)")
    return {"running": running, "last_tick": utc(row.at).isoformat(), "minutes_ago": minutes,
            "detail": row.detail or {}, "message": message}


def _alive(conn: Connection, now: datetime, stale_after: timedelta) -> list[dict[str, Any]]:
    """Each watch that ticked within ``stale_after``, by its own heartbeat row (a trust may run one per host)."""
    rows = conn.execute(select(heartbeats.c.name, heartbeats.c.at).where(heartbeats.c.name.startswith(WATCH_PREFIX),
                                                                        heartbeats.c.at >= now - stale_after)
                        .order_by(heartbeats.c.name)).all()
    return [{"name": r.name, "last_tick": utc(r.at).isoformat(), "ago": humanize.duration(now - utc(r.at))}
            for r in rows]


def _sync_json(run: SyncRow) -> dict[str, Any]:
    return {"school": run.school_id, "status": run.status,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None, "message": run.message}


def _escalations(conn: Connection) -> dict[str, int]:
    open_count = conn.execute(select(func.count()).select_from(escalations)
                              .where(escalations.c.closed_at.is_(None), escalations.c.kind != "checkin-reminder")
                              ).scalar_one()
    failed = conn.execute(select(func.count()).select_from(notifications)
                          .where(notifications.c.status.in_(("failed", "retrying")))).scalar_one()
    return {"open": open_count, "notifications_failing": failed}


def _print(report: dict[str, Any], runs: list[SyncRow]) -> None:
    click.echo(f"watch: {report['watch']['message']}")
    for alive in report["watches"]:
        click.echo(f"  alive: {alive['name']} (ticked {alive['ago']} ago)")
    for broken in report["broken_plugins"]:
        schools = ", ".join(broken["schools"]) or "no configured school"
        click.echo(f"POLICY PLUGIN BROKEN: {broken['plugin']!r} (school(s) {schools}): {broken['error']} — "
                   "their visits out are watched with the core's default chain; fix it (see `hvc plugins`)")
    escal = report["escalations"]
    click.echo(f"escalations: {escal['open']} open, {escal['notifications_failing']} notification(s) failing")
    for run in runs:
        click.echo(neutralise(f"sync {run.school_id}: {run.status} at {humanize.moment(run.finished_at, missing='(running)')}"
                              + (f" — {run.message}" if run.message else "")))
    if report["outbox"]:
        click.echo("outbox: " + ", ".join(f"{n} {status}" for status, n in sorted(report["outbox"].items())))
    if report["outbox_may_be_twice"]:
        click.echo(f"outbox: {report['outbox_may_be_twice']} record(s) {MAY_BE_TWICE} (`hvc outbox list` marks them; "
                   "`hvc outbox checked ID --found one|two --as STAFF` once you have looked)")
