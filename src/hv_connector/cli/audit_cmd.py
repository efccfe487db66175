"""``hvc audit``: prove the audit log is whole, and show one visit's history."""

from __future__ import annotations

import click

from hv_connector.cli.acting import require_school
from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.errors import InputError
from hv_connector.store import audit
from hv_connector.text import neutralise


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@json_option("Print the result as JSON.")
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check every entry's hash chain; exit 1 naming the first broken entry."""
    with runtime(ctx).store.connect() as conn:
        broken = audit.inspect(conn)
        entries, tip_hash = audit.tip(conn)
    if as_json:
        emit_json({
            "ok": broken is None, "entries": entries, "tip_hash": tip_hash,
            "first_broken": None if broken is None else {"seq": broken.seq, "problem": broken.problem},
        })
    elif broken is None:
        click.echo(f"The audit log is intact: {entries} entries, tip hash {tip_hash}.")
        click.echo("Keep the tip hash somewhere else (a ticket, an e-mail) to pin the log as it is today.")
    else:
        click.echo(f"The audit log is broken at entry {broken.seq}: {broken.problem}.")
        click.echo("Entries from there on cannot be trusted; keep a copy of the database and tell the DSL.")
    if broken is not None:
        ctx.exit(1)


@audit_group.command("show")
@click.argument("visit_id")
@json_option("Print the entries as JSON.")
@click.pass_context
def audit_show(ctx: click.Context, visit_id: str, as_json: bool) -> None:
    """Print VISIT_ID's history from the audit log: who did what to it, when and why, one sentence a line."""
    from hv_connector.read.history import history_lines  # the read layer loads pydantic models: only when asked
    from hv_connector.read.queries import visit_pupil_name
    from hv_connector.visits.directory import Directory

    rt = runtime(ctx)
    with rt.store.connect() as conn:
        entries = audit.history(conn, visit_id)
        pupil = visit_pupil_name(conn, visit_id)
    if not entries:
        raise InputError(f"no audit entries for visit {visit_id!r}: check the id with `hvc visit list`")
    require_school(ctx, str(entries[0].school_id), f"visit {visit_id}")
    if as_json:
        emit_json([entry.as_json() for entry in entries])
        return
    names = Directory.from_settings(rt.settings).names(entries[0].school_id or "")
    for line in history_lines(entries, names, pupil):
        click.echo(neutralise(line))
