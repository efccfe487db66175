"""``hvc push`` and ``hvc outbox``: deliver finished visits' records to CPOMS, and look after the outbox."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option, require_school, visible_schools
from hv_connector.cli.common import Choice, cli, emit_json, json_option, log_access, runtime
from hv_connector.cli.terminal import LOG_FORMAT, guard_logging, log_echo, unguarded
from hv_connector.errors import InputError
from hv_connector.models import StaffMember
from hv_connector.outbox import queue as outbox
from hv_connector.outbox.entry import as_held, attach_command, in_tray, paste_block
from hv_connector.outbox.push import DEFAULT_LEASE, Outcome, Pusher
from hv_connector.outbox.sinks import open_sinks
from hv_connector.plugins import merged_registry
from hv_connector.read.queries import outbox_rows, twice_said
from hv_connector.store.access import Seen
from hv_connector.store.rows import IN_TRAY, MAY_BE_TWICE, OUTBOX_STATUSES, DoubtFound, confirmed_as
from hv_connector.text import neutralise
from hv_connector.visits.files import read_document

PUSH_HELP = """Send the outbox's due records to each school's sink: concerns first, then routine reports, oldest first.

A school on the `manual` sink (the default) gets each record written to its
private folder as a paste block and a PDF, for the DSL team to enter in CPOMS
and confirm (`hvc outbox confirm ID --ref N --as STAFF`). A school on an API sink
(`cpoms-api`, a plugin's) gets each record sent with a stable idempotency key; a
record whose earlier try may have arrived (a timeout, a dropped connection, a push
that was killed) is looked up by reference first, so nothing arrives twice. A
record CPOMS keeps unmatched in its Incident Tray is IN TRAY: never sent again, and
done once the DSL team attaches it to the pupil and confirms (`hvc outbox confirm`). A
record the receiver refuses is PARKED with its reason (see `hvc outbox list
--status parked`), never dropped: fix the cause and run `hvc outbox retry ID`.

\b
Exit codes:
  0  every due record is delivered (sent now, already there, written for entry, or in CPOMS's tray)
  1  some record waits (the receiver is down, slow or rate-limiting: the next push retries it)
     or was parked by this push (the receiver refused it: someone must look)
  2  bad configuration (a school's sink setting is missing; the message names the setting)

\b
Run it from cron every few minutes, e.g.:
  */5 * * * *  hvc push >> /var/log/hv-connector/push.log 2>&1
"""


class _Progress:
    """A bar in a terminal; one plain line per record in a log."""

    def __init__(self, total: int) -> None:
        self.tty = sys.stdout.isatty()
        # The bar's own escape sequences go past the output guard; the records' text never reaches the bar.
        self.bar = (click.progressbar(length=total, label="Pushing to CPOMS", file=unguarded(sys.stdout))
                    if self.tty and total else None)
        if self.bar is not None:
            self.bar.__enter__()
        elif not self.tty:
            log_echo(f"pushing {total} due record(s) to CPOMS")

    def __call__(self, item: Outcome) -> None:
        if self.bar is not None:
            self.bar.update(1)
            return
        remote = "" if not item.remote_id or item.result == "in-tray" else (
            f" → {item.remote_id}" if item.result == "written" else f" → CPOMS {item.remote_id}")
        why = f": {item.message}" if item.message else ""
        log_echo(f"{item.result:<13} #{item.outbox_id} {item.school_id} {item.kind}{remote}{why}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command("push", help=PUSH_HELP)
@click.option("--school", help="Push only this school's records.")
@click.option("--concerns-only", is_flag=True, help="Push only safeguarding concerns (what the watch does).")
@click.option("--all", "ignore_backoff", is_flag=True,
              help="Also send records still waiting out a back-off (e.g. once CPOMS is back).")
@click.option("--concurrency", type=click.IntRange(1, 1024),
              help="At most this many records in flight at once. Default: for each school, its sink's "
                   "requests_per_second × the receiver's measured answer time (with headroom); 8 for a sink "
                   "with no rate (manual).")
@click.option("--lease", type=click.FloatRange(0.1), default=DEFAULT_LEASE.total_seconds(), show_default=True,
              help="Seconds a claimed record is held before another push may take it over.")
@json_option("Print the summary as JSON.")
@click.pass_context
def push(ctx: click.Context, school: str | None, concerns_only: bool, ignore_backoff: bool, concurrency: int | None,
         lease: float, as_json: bool) -> None:
    rt = runtime(ctx)
    if school is not None:
        rt.school(school)
    # A school that cannot be pushed, a sink that fails: WARNING lines on stderr (cron's log), as they were
    # through Python's last-resort handler, now through one with the neutralising filter.
    guard_logging(level=logging.WARNING, format=LOG_FORMAT, stream=sys.stderr)
    sink_for = open_sinks(rt.settings, merged_registry(rt.pm, "report_sinks"), rt.settings.schools)
    pusher = Pusher(rt.store, sink_for, now=rt.clock.now, concurrency=concurrency, lease=timedelta(seconds=lease))
    due = pusher.count_due(school=school, concerns_only=concerns_only, ignore_backoff=ignore_backoff)
    progress = _Progress(due) if not as_json else None
    pusher.on_outcome = progress or (lambda _o: None)
    try:
        summary = asyncio.run(pusher.run(school=school, concerns_only=concerns_only, ignore_backoff=ignore_backoff))
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json(summary.as_json())
    else:
        for problem in summary.config_errors:
            log_echo(f"hvc: {problem}", err=True)
        log_echo(summary.said())
    ctx.exit(summary.exit_code)


@cli.group("outbox")
def outbox_group() -> None:
    """List, show, confirm and retry the records waiting for (or refused by) each school's sink.

    Once you have looked in CPOMS for a second copy of a record that may be there twice, say what you found with
    `hvc outbox checked`."""


STATUSES = Choice(OUTBOX_STATUSES)


@outbox_group.command("list")
@click.option("--status", type=STATUSES, help="Only records in this status.")
@click.option("--school", help="Only this school's records.")
@json_option("Print the records as JSON.")
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, school: str | None, as_json: bool) -> None:
    """List outbox records: parked first, then concerns, oldest first. Parked records show the receiver's reason; a
    record sent that may be in CPOMS twice says so, and why, until someone checks it (`hvc outbox checked`)."""
    if school is not None:
        require_school(ctx, school, f"school {school}'s outbox")
    with runtime(ctx).store.connect() as conn:
        records = outbox_rows(conn, statuses=[status] if status else None,
                              schools=[school] if school else visible_schools(ctx))
    log_access(ctx, "hvc outbox list", [Seen("outbox", str(r.id), r.school_id) for r in records])
    if as_json:
        emit_json([r.model_dump(mode="json") for r in records])
        return
    if not records:
        click.echo("The outbox is empty." if status is None else f"No {status} records.")
        return
    for r in records:
        flag = "CONCERN" if r.kind == "concern" else r.kind
        twice = f" — {MAY_BE_TWICE}" if r.to_check else f" — {r.checked}" if r.checked else ""
        state = {"sent": f"sent {humanize.moment(r.sent_at)} as record {r.cpoms_id}{twice}",
                 "pending": f"pending (next try {humanize.moment(r.next_attempt_at)}, {r.attempts} tries)",
                 "sending": f"sending (claimed until {humanize.moment(r.next_attempt_at)})",
                 "awaiting-entry": f"AWAITING ENTRY in CPOMS (written {humanize.moment(r.created_at)}): "
                                   f"`hvc outbox confirm {r.id} --ref N --as STAFF`",
                 "in-tray": f"IN TRAY: {in_tray(r.cpoms_id, r)}, then `{attach_command(r.id, r.cpoms_id)}`{twice}",
                 "parked": "PARKED"}[r.status]
        # A pupil's name, the receiver's record number and its reason: each line one line, whatever they hold.
        click.echo(neutralise(f"#{r.id:<5} {r.school_id:<14} {flag:<10} {r.pupil_name:<24} {state}"))
        if r.status in ("parked", "pending") and r.last_error:
            click.echo(neutralise(f"       {r.last_error}"))
        if r.doubt:
            click.echo(neutralise(f"       {r.doubt}"))


@outbox_group.command("show")
@click.argument("outbox_id", type=int)
@json_option("Print the record and its report as JSON.")
@click.pass_context
def outbox_show(ctx: click.Context, outbox_id: int, as_json: bool) -> None:
    """Show one record: its status, the receiver's reason if parked, and the whole record as a paste block.

    The paste block is what the DSL team enters in CPOMS by hand (the fields CPOMS asks for, then the
    incident's text), never cut; an API sink's copy is cut at its limit only with a line saying so. A record
    in CPOMS's tray is shown as CPOMS holds it, to attach, never as a block to enter again."""
    with runtime(ctx).store.connect() as conn:
        record = outbox.get_record(conn, outbox_id)
    require_school(ctx, record.school_id, f"outbox record #{outbox_id}")
    log_access(ctx, "hvc outbox show", [Seen("outbox", str(record.id), record.school_id)])
    if as_json:
        emit_json({**record.summary(), "payload": record.payload})
        return
    click.echo(f"Outbox record #{record.id}: {record.kind} for school {record.school_id}, visit {record.visit_id}")
    click.echo(neutralise(f"Status: {record.status}; tries: {record.attempts}; queued {humanize.moment(record.created_at)}"
                          + (f"; sent {humanize.moment(record.sent_at)}, the receiver's record {record.cpoms_id}"
                             if record.sent_at else "")))
    if record.status == "awaiting-entry":
        click.echo(f"Enter it in CPOMS, then: hvc outbox confirm {record.id} --ref CPOMS_RECORD_NO --as STAFF")
    if record.status == IN_TRAY:
        click.echo(neutralise(f"It is {in_tray(record.cpoms_id, record.report)}, then: "
                              f"{attach_command(record.id, record.cpoms_id)}"))
    if record.alert_dsl:
        click.echo("Alerts the DSL: yes")
    twice = twice_said(record)
    if twice:
        click.echo(neutralise(twice))
        if not record.checked:
            click.echo(f"Once you have looked: hvc outbox checked {record.id} --found one|two --as STAFF")
    if record.last_error:
        click.echo(neutralise(f"{'Parked because' if record.status == 'parked' else 'Last error'}: {record.last_error}"))
    click.echo("")
    click.echo((as_held if record.status == IN_TRAY else paste_block)(record.report), nl=False)


@outbox_group.command("confirm")
@click.argument("outbox_id", type=int)
@click.option("--ref", required=True, help="The record number CPOMS gave the incident you entered (or attached).")
@acting_option("actor", help="Who confirms (default: you): a member of the DSL team (the confirmation is audited).")
@json_option("Print the record as JSON.")
@click.pass_context
def outbox_confirm(ctx: click.Context, outbox_id: int, ref: str, actor: str, as_json: bool) -> None:
    """Confirm record ID was entered in CPOMS as record REF, or, for a record in CPOMS's Incident Tray, attached
    to the pupil as incident REF: only then is it done."""
    rt = runtime(ctx)
    before, member = _acting_on(ctx, outbox_id, actor)
    attached = before.status == IN_TRAY
    record = outbox.confirm(rt.store, outbox_id, ref=ref, by=member, now=rt.clock.now())
    if as_json:
        emit_json(record.summary())
        return
    done = confirmed_as(str(record.cpoms_id), attached=attached, pupil=record.report.pupil_name)
    click.echo(neutralise(f"Outbox record #{record.id} is done: {done}, confirmed by {member.name}."))


def _acting_on(ctx: click.Context, outbox_id: int, actor: str) -> tuple[outbox.OutboxRecord, StaffMember]:
    """Record ``outbox_id`` as it is now and the member of its school's staff ``--as`` names; an unknown record, a
    school the person may not see, or someone not in its staff directory is refused, naming what to do."""
    with runtime(ctx).store.connect() as conn:
        record = outbox.get_record(conn, outbox_id)
    school = record.school_id
    require_school(ctx, school, f"outbox record #{outbox_id}")
    member = runtime(ctx).staff(school).get(actor)
    if member is None:
        raise InputError(f"--as {actor!r} is not in school {school}'s staff directory ([[staff.{school}]] in hvc.toml)")
    return record, member


@outbox_group.command("checked")
@click.argument("outbox_id", type=int)
@click.option("--found", type=Choice(get_args(DoubtFound)), required=True,
              help="What CPOMS held: `one` copy only, or `two`, and you have merged or removed the extra one in CPOMS.")
@acting_option("actor", help="Who looked (default: you): a member of the DSL team (the check is audited).")
@json_option("Print the record as JSON.")
@click.pass_context
def outbox_checked(ctx: click.Context, outbox_id: int, found: DoubtFound, actor: str, as_json: bool) -> None:
    """Say what you found in CPOMS for record ID.

    For a record that may be in CPOMS twice: once you have looked for a second copy (and merged or removed it), say
    what you found. It is no longer marked to check, and `hvc status` no longer counts it; the doubt stays on the
    record, for its history."""
    rt = runtime(ctx)
    _before, member = _acting_on(ctx, outbox_id, actor)
    record = outbox.check_doubt(rt.store, outbox_id, found=found, by=member, now=rt.clock.now())
    if as_json:
        emit_json(record.summary())
        return
    click.echo(neutralise(f"Outbox record #{record.id} (CPOMS record {record.cpoms_id}) is {record.checked}."))


@outbox_group.command("retry")
@click.argument("outbox_id", type=int)
@acting_option("actor", help="Who retries (default: you; the retry is audited).")
@click.option("--fixed", "fixed", type=click.Path(path_type=Path, dir_okay=False),
              help="A corrected report (JSON: the `payload` of `hvc outbox show ID --json`, edited).")
@json_option("Print the record as JSON.")
@click.pass_context
def outbox_retry(ctx: click.Context, outbox_id: int, actor: str, fixed: Path | None, as_json: bool) -> None:
    """Put parked record ID back in the queue (after fixing the cause); the next `hvc push` sends it."""
    rt = runtime(ctx)
    payload = _read_fixed(fixed) if fixed is not None else None
    _acting_on(ctx, outbox_id, actor)
    record = outbox.retry(rt.store, outbox_id, actor=actor, now=rt.clock.now(), fixed_payload=payload)
    if as_json:
        emit_json(record.summary())
        return
    click.echo(f"Outbox record #{record.id} is pending again (revision {record.report.revision}); "
               "`hvc push` sends it.")


def _read_fixed(path: Path) -> dict[str, Any]:
    data = read_document(path, "the report", source=f"--fixed {path}")
    payload = data.get("payload", data)
    if not isinstance(payload, dict):
        raise InputError(f"--fixed {path}: `payload` must be a JSON object (the report)")
    return payload
