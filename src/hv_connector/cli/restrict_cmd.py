"""``hvc pupil restrict add|list|remove``: the school's own restrictions on a pupil, kept by the DSL team.

No MIS feed carries no-contact orders or a court order's terms; the DSL team enters them here, every
change is audited, and the briefing (``hvc pupil show``, the dashboard) shows the standing ones first.
"""

from __future__ import annotations

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option
from hv_connector.cli.common import (
    PUPIL_SCHOOL_HELP,
    Choice,
    emit_json,
    json_option,
    log_access,
    pupil_argument,
    read_pupil,
    runtime,
)
from hv_connector.errors import InputError, excerpt
from hv_connector.models import StaffMember
from hv_connector.read.briefing import RESTRICTION_KINDS, restrictions
from hv_connector.runtime import Runtime
from hv_connector.store.access import Seen
from hv_connector.text import neutralise
from hv_connector.visits import restrictions as kept


def _member(rt: Runtime, school: str, staff_id: str) -> StaffMember:
    member = rt.staff(school).get(staff_id)
    if member is None:
        raise InputError(f"--as: {excerpt(staff_id)} is not in {school}'s staff directory (`hvc config show` lists it)")
    return member


@click.group()
def restrict() -> None:
    """The school's own restrictions on a pupil (no-contact orders, court-order terms): DSL team only."""


@restrict.command("add")
@click.argument("pupil_id")
@click.option("--kind", type=Choice(RESTRICTION_KINDS), required=True, help="What sort of restriction.")
@click.option("--text", required=True, help="What staff must do, e.g. the court order's terms.")
@click.option("--person", help="Who it concerns, e.g. 'Sean Example (father)'.")
@click.option("--school", "school_id", metavar="ID", help=PUPIL_SCHOOL_HELP)
@acting_option(help="A DSL or deputy DSL (default: you).")
@json_option("Print the restriction as JSON.")
@click.pass_context
def restrict_add(ctx: click.Context, pupil_id: str, kind: str, text: str, person: str | None,
                 school_id: str | None, by: str, as_json: bool) -> None:
    """Record a restriction on PUPIL_ID (our id, the MIS id or the UPN); it is audited and shown in the briefing."""
    rt = runtime(ctx)
    school, mis_id, _ = read_pupil(ctx, pupil_id, school_id, lambda *_: None)
    added = kept.add(rt.store, school, mis_id, kind=kind, text=text, person=person, by=_member(rt, school, by),
                     at=rt.clock.now())
    if as_json:
        emit_json(added.model_dump(mode="json"))
        return
    click.echo(f"Restriction #{added.id} recorded on {mis_id} ({school}); it shows in the pupil's briefing.")


@restrict.command("list")
@pupil_argument
@json_option("Print the restrictions as JSON.")
@click.pass_context
def restrict_list(ctx: click.Context, pupil_id: str, school_id: str | None, as_json: bool) -> None:
    """The standing restrictions on PUPIL_ID."""
    school, mis_id, standing = read_pupil(ctx, pupil_id, school_id, restrictions)
    log_access(ctx, "hvc pupil restrict list", [Seen("pupil", mis_id, school, mis_id)])
    if as_json:
        emit_json([r.model_dump(mode="json") for r in standing])
        return
    if not standing:
        click.echo(f"No restrictions on {mis_id} ({school}).")
    for r in standing:
        who = f" — {r.person}" if r.person else ""
        by = humanize.person(r.added_by, runtime(ctx).staff_names(school))
        click.echo(neutralise(f"#{r.id} {r.kind}{who}: {r.text} (by {by}, {humanize.moment(r.added_at)})"))


@restrict.command("remove")
@click.argument("restriction_id", type=int)
@click.option("--school", "school_id", required=True, metavar="ID", help="The school the restriction belongs to.")
@click.option("--reason", required=True, help="Why it no longer applies (goes in the audit log).")
@acting_option(help="A DSL or deputy DSL (default: you).")
@click.pass_context
def restrict_remove(ctx: click.Context, restriction_id: int, school_id: str, reason: str, by: str) -> None:
    """Lift restriction RESTRICTION_ID (the record and its history stay in the audit log)."""
    rt = runtime(ctx)
    kept.remove(rt.store, school_id, restriction_id, reason=reason, by=_member(rt, school_id, by), at=rt.clock.now())
    click.echo(f"Restriction #{restriction_id} lifted.")
