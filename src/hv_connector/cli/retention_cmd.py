"""``hvc retention``: apply the school's retention schedule, and hold records against it."""

from __future__ import annotations

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option, require_school, visible_schools
from hv_connector.cli.common import Choice, cli, emit_json, json_option, runtime
from hv_connector.errors import AccessRefused
from hv_connector.text import neutralise
from hv_connector.visits import retention as schedule


@cli.group()
def retention() -> None:
    """Apply the school's retention schedule (nightly); hold records that must be kept."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would go, and why; change nothing.")
@json_option("Print what goes (or would) as JSON.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Remove finished visits, leavers' MIS data and resolved quarantine past their dates; tombstones stay in the audit log.

    The run itself is the server's nightly job; staff signed in as themselves may look with --dry-run, at their
    own schools' records."""
    mine = visible_schools(ctx)
    if mine is not None and not dry_run:
        raise AccessRefused("retention run: removing records is the server's nightly job (the hvc-retention timer), "
                            "run by whoever runs the server; see what it would remove from your school with --dry-run")
    rt = runtime(ctx)
    now = rt.clock.now()
    with rt.store.begin() as conn:
        planned = schedule.plan(conn, rt.settings.retention, now).only(mine)
        erased = 0 if dry_run else schedule.apply(conn, planned, now)
    due, held_back = planned.due, planned.held_back
    if as_json:
        emit_json({"dry_run": dry_run, "due": [item.__dict__ for item in due], "audit_details_erased": erased,
                   "held_back": [{**held.visit.__dict__, "unsent": held.unsent, "todo": held.todo}
                                 for held in held_back]})
        return
    for item in due:
        # A leaver's id is the MIS's: on this one line, whatever it holds.
        click.echo(neutralise(f"{'would remove' if dry_run else 'removed'}  {item.kind:<10}  {item.school_id:<14}  "
                              f"{item.record_id}  ({item.why})"))
    for held in held_back:
        click.echo(neutralise(f"{'would hold back' if dry_run else 'held back'}  visit  {held.visit.school_id:<14}  "
                              f"{held.visit.record_id}  ({held.visit.why}; {schedule.unsent_text(held.unsent)})"))
    verb = "would go" if dry_run else "removed"
    click.echo(f"{len(due)} record(s) {verb}." + ("" if dry_run else f" {erased} audit detail(s) erased; the chain "
                                                  "still verifies (`hvc audit verify`)."))
    if held_back:
        unsent = planned.unsent
        click.echo(f"{len(held_back)} visit(s) {'would be ' if dry_run else ''}held back, not removed: "
                   f"{schedule.unsent_text(unsent)}, and a record must not vanish before it is on its pupil's chronology in CPOMS. "
                   f"To let them go, {schedule.todo(unsent)}; the first run after every record of a visit is sent "
                   "removes it.")


@retention.command("hold")
@click.argument("kind", type=Choice(["pupil", "visit"]))
@click.argument("record_id")
@click.option("--school", "school_id", required=True, metavar="ID", help="The record's school.")
@click.option("--reason", required=True, help="Why it must be kept (e.g. it may concern an allegation of abuse).")
@acting_option(help="Who places the hold (default: you; audited).")
@click.pass_context
def retention_hold(ctx: click.Context, kind: str, record_id: str, school_id: str, reason: str, by: str) -> None:
    """Keep a pupil (and all their visits) or one visit, whatever the schedule says, until the hold is lifted."""
    require_school(ctx, school_id, f"{kind} {record_id}")
    rt = runtime(ctx)
    with rt.store.begin() as conn:
        hold_id = schedule.place_hold(conn, school_id=school_id, kind=kind, record_id=record_id, reason=reason, by=by,
                                      at=rt.clock.now())
    click.echo(f"Hold {hold_id} placed on {kind} {record_id}: no retention run will remove it.")


@retention.command("release")
@click.argument("hold_id", type=int)
@acting_option(help="Who lifts the hold (default: you; audited).")
@click.pass_context
def retention_release(ctx: click.Context, hold_id: int, by: str) -> None:
    """Lift hold HOLD_ID: the schedule applies to the record again."""
    rt = runtime(ctx)
    with rt.store.connect() as conn:
        school = schedule.hold_school(conn, hold_id)
    if school is not None:  # an unknown id is left for lift_hold to report
        require_school(ctx, school, f"hold {hold_id}")
    with rt.store.begin() as conn:
        schedule.lift_hold(conn, hold_id, by=by, at=rt.clock.now())
    click.echo(f"Hold {hold_id} lifted.")


@retention.command("holds")
@json_option("Print the holds as JSON.")
@click.pass_context
def retention_holds(ctx: click.Context, as_json: bool) -> None:
    """List the holds in force (staff signed in as themselves see their own schools' holds)."""
    mine = visible_schools(ctx)
    with runtime(ctx).store.connect() as conn:
        found = [hold for hold in schedule.holds(conn) if mine is None or hold.school_id in mine]
    if as_json:
        emit_json([{**hold.__dict__, "placed_at": hold.placed_at.isoformat()} for hold in found])
        return
    if not found:
        click.echo("No holds.")
    for hold in found:
        click.echo(neutralise(f"#{hold.id}  {hold.kind} {hold.record_id} ({hold.school_id})  by {hold.placed_by} "
                              f"{humanize.moment(hold.placed_at)}: {hold.reason}"))
