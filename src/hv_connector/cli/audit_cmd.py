"""``hvc audit``: prove the audit log and the records it describes, pin its tip, and say who read a pupil's record."""

from __future__ import annotations

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option, require_school
from hv_connector.cli.common import PUPIL_SCHOOL_HELP, cli, emit_json, json_option, read_pupil, runtime
from hv_connector.errors import InputError
from hv_connector.store import access, alert_sets, audit, records
from hv_connector.text import neutralise


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@click.option("--expect", "expected", metavar="HASH",
              help="A tip hash kept elsewhere (from `hvc audit anchor`): fail unless the chain still leads to it.")
@json_option("Print the result as JSON.")
@click.pass_context
def audit_verify(ctx: click.Context, expected: str | None, as_json: bool) -> None:
    """Check every entry's hash chain and re-hash the records it describes; exit 1 naming what is wrong."""
    recorded: dict[str, dict[str, str]] = {}
    sets: dict[alert_sets.Pupil, tuple[int, str]] = {}
    with runtime(ctx).store.connect() as conn:
        broken = audit.inspect(conn, records=recorded, alert_sets=sets)
        problems = records.compare(recorded, records.snapshot(conn, recorded, recorded=recorded)) if broken is None else []
        alerts = alert_sets.compare(conn, sets) if broken is None else []
        unsealed = records.unrecorded(conn, list(recorded)) if broken is None else []
        entries, tip_hash = (0, "") if broken is not None else audit.tip(conn)
        anchored = None if expected is None or broken is not None else audit.has_hash(conn, expected.strip().lower())
    ok = broken is None and not problems and not alerts and not unsealed and anchored in (None, True)
    if as_json:
        emit_json({
            "ok": ok, "entries": entries, "tip_hash": tip_hash,
            "first_broken": None if broken is None else {"seq": broken.seq, "problem": broken.problem},
            "records": [{"visit_id": p.visit_id, "record": p.record, "problem": p.problem} for p in problems],
            "alert_sets": [{"school_id": p.school_id, "pupil_mis_id": p.pupil_mis_id, "since_entry": p.seq,
                            "problem": str(p)} for p in alerts],
            "unsealed_visits": unsealed, "expected_tip_found": anchored,
        })
    else:
        _report(broken, [*problems, *alerts], unsealed, anchored, entries, tip_hash)
    if not ok:
        ctx.exit(1)


def _report(broken: audit.ChainBreak | None, problems: list[records.RecordProblem | alert_sets.AlertSetProblem],
            unsealed: list[str],
            anchored: bool | None, entries: int, tip_hash: str) -> None:
    if broken is not None:
        click.echo(neutralise(f"The audit log is broken at entry {broken.seq}: {broken.problem}."))
        click.echo("Entries from there on cannot be trusted; keep a copy of the database and tell the DSL.")
        return
    # Ids read from a store that may have been tampered with: each finding on its one line, so none can forge
    # a line of the verdict.
    for problem in problems:
        click.echo(neutralise(f"Record changed outside hv-connector: {problem}."
                              if isinstance(problem, records.RecordProblem) else f"{problem}."))
    if unsealed:
        click.echo(neutralise(f"{len(unsealed)} visit(s) have no record hashes in the audit log "
                              f"({', '.join(unsealed[:10])}{' …' if len(unsealed) > 10 else ''}): forged, or last "
                              "audited before this version; once you have checked them, run `hvc audit seal`."))
    if anchored is False:
        click.echo("The expected tip hash is not in this chain: the log was rewritten or replaced since it was kept.")
    if not problems and not unsealed and anchored is not False:
        click.echo(f"The audit log is intact: {entries} entries, tip hash {tip_hash}; the records it describes "
                   "match it.")
        if anchored is None:
            click.echo("Keep the tip hash somewhere else (`hvc audit anchor --mail`) to pin the log as it is today.")
    else:
        click.echo("Keep a copy of the database and tell the DSL.")


@audit_group.command("anchor")
@click.option("--mail", is_flag=True, help="Also e-mail it to the addresses in `anchor_to` under [audit].")
@click.pass_context
def audit_anchor(ctx: click.Context, mail: bool) -> None:
    """Print the chain's tip (seq and hash) to keep outside the store; check it later with `verify --expect`."""
    rt = runtime(ctx)
    now = rt.clock.now()
    with rt.store.connect() as conn:
        entries, tip_hash = audit.tip(conn)
    line = f"hv-connector audit tip at {humanize.moment(now, seconds=True)}: entry {entries}, hash {tip_hash}"
    click.echo(line)
    if mail:
        from hv_connector.watch.anchor import mail_anchor  # SMTP and the notifiers: only when asked

        for address in mail_anchor(rt, f"{line}\n\nCheck the log against it with: hvc audit verify --expect {tip_hash}",
                                   now):
            click.echo(f"Sent to {address}.")


@audit_group.command("seal")
@acting_option(help="Who checked the visits and seals them (default: you).")
@click.pass_context
def audit_seal(ctx: click.Context, by: str) -> None:
    """Record in the audit log the current state of every visit, and pupil's alerts, it has no hashes for."""
    rt = runtime(ctx)
    with rt.store.begin() as conn:
        sealed, pupils = audit.seal(conn, actor=by, at=rt.clock.now())
    click.echo(f"Sealed {sealed} visit(s) and the alerts of {pupils} pupil(s)." if sealed or pupils
               else "Every visit and every pupil's alerts already have record hashes.")


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


@audit_group.command("access")
@click.option("--pupil", "pupil_id", required=True, metavar="ID", help="The pupil (MIS id or UPN).")
@click.option("--school", "school_id", metavar="ID", help=PUPIL_SCHOOL_HELP)
@json_option("Print the entries as JSON.")
@click.pass_context
def audit_access(ctx: click.Context, pupil_id: str, school_id: str | None, as_json: bool) -> None:
    """Who has looked at the pupil's record: their background, their visits and those visits' outbox records."""
    school, mis_id, seen = read_pupil(ctx, pupil_id, school_id, access.for_pupil)
    if as_json:
        emit_json([{**entry.__dict__, "at": entry.at.isoformat()} for entry in seen])
        return
    if not seen:
        click.echo(f"Nobody has been shown pupil {mis_id} ({school}) since the access log began.")
    for entry in seen:
        click.echo(neutralise(f"{humanize.moment(entry.at, seconds=True)}  {entry.actor:<14}  {entry.via:<22}  "
                              f"{entry.kind} {entry.record_id}  ({entry.origin})"))
