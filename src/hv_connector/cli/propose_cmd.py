"""``hvc propose``: the visits proposed from attendance — list, accept, dismiss, the triggers, refresh."""

from __future__ import annotations

from typing import Any

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option, require_school, visible_schools
from hv_connector.cli.common import cli, echo_findings, emit_json, json_option, log_access, runtime
from hv_connector.proposals.decide import Decision, ProposalDesk
from hv_connector.proposals.refresh import proposals_line, refresh
from hv_connector.proposals.triggers import school_triggers
from hv_connector.read.proposals import ProposalRow, list_proposals, school_lines
from hv_connector.runtime import Runtime
from hv_connector.store.access import Seen
from hv_connector.text import neutralise
from hv_connector.visits.service import VisitService


@cli.group()
def propose() -> None:
    """Visits proposed from attendance by each school's triggers: list, accept, dismiss."""


def _schools(ctx: click.Context, rt: Runtime, school: str | None) -> list[str]:
    """``school`` (refused unless the person signed in works there), else every school they may read."""
    if school:
        require_school(ctx, rt.school(school).id, f"school {school}'s proposals")
        return [rt.school(school).id]
    mine = visible_schools(ctx)
    return [s.id for s in rt.settings.schools if mine is None or s.id in mine]


def proposal_json(row: ProposalRow) -> dict[str, Any]:
    """A proposal for scripts: the pupil, the trigger (its clause and what it proposes), the figures and status."""
    return {**row.model_dump(mode="json"), "figure_line": row.figure_line()}


@propose.command("list")
@click.option("--school", metavar="ID", help="Only this school.")
@json_option("Print the proposals, and each school's line, as JSON.")
@click.pass_context
def propose_list(ctx: click.Context, school: str | None, as_json: bool) -> None:
    """The open proposals, most urgent first, with the figures behind each; a school whose attendance is not
    available says so instead of showing nobody."""
    rt = runtime(ctx)
    schools = _schools(ctx, rt, school)
    with rt.store.connect() as conn:
        rows = list_proposals(conn, schools)
        lines = school_lines(conn, schools)
    log_access(ctx, "hvc propose list", [Seen("pupil", r.pupil_mis_id, r.school_id, r.pupil_mis_id) for r in rows])
    if as_json:
        emit_json({"proposals": [proposal_json(r) for r in rows],
                   "schools": [{**line.model_dump(mode="json"), "problem": line.problem()} for line in lines]})
        return
    for line in lines:
        if line.problem():
            click.echo(f"{line.school_id}: no proposals: {line.problem()}")
    if not rows:
        click.echo("No open proposals" + (" for the schools whose attendance was checked." if any(
            not line.problem() for line in lines) else "."))
    for row in rows:
        # A pupil's name from the MIS, a trigger's words from the school's plugin: each line one line.
        click.echo(neutralise(f"{row.id}  {row.trigger.urgency.value:<7} {row.school_id:<15} {row.pupil_name} "
                              f"({row.pupil_mis_id})"))
        action = "notify the local authority" if row.trigger.proposes.value != "visit" else "visit"
        click.echo(neutralise(f"    {row.trigger.title} → {action}  [{row.trigger.id}; {row.trigger.clause}]"))
        click.echo(f"    {row.figure_line()}")
        click.echo(f"    weeks |{row.sparkline()}|  first met {humanize.moment(row.first_met_at)}")
        if row.visited_line():
            click.echo(f"    already: {row.visited_line()}")


def _desk(ctx: click.Context) -> ProposalDesk:
    """The desk that decides proposals, refusing one outside the signed-in person's school as it reads it."""
    return ProposalDesk(VisitService.from_runtime(runtime(ctx)),
                        guard=lambda proposal: require_school(ctx, proposal.school_id, f"proposal {proposal.id}"))


def _echo_decision(decision: Decision, as_json: bool) -> None:
    row = decision.proposal
    if as_json:
        emit_json({"proposal": proposal_json(row),
                   "visit": decision.visit.record.id if decision.visit else None})
        return
    click.echo(f"Proposal {row.id} {row.status} by {row.decided_by}.")
    if decision.visit:
        visit = decision.visit.record
        click.echo(neutralise(f"Requested visit {visit.id} for {row.pupil_name}, planned "
                              f"{humanize.moment(visit.visit.planned_start)}; "
                              f"it goes to its authoriser as any other: `hvc visit show {visit.id}`."))
        echo_findings(decision.visit.findings)
    elif row.status == "accepted":
        click.echo("No visit: record the referral to the local authority in the pupil's attendance file.")


@propose.command("accept")
@click.argument("proposal_id")
@acting_option(help="Who decides (default: you): a role the trigger names.")
@json_option("Print the decision as JSON.")
@click.pass_context
def propose_accept(ctx: click.Context, proposal_id: str, by: str, as_json: bool) -> None:
    """Accept a proposal: request the visit it proposes (pre-filled from the pupil and the trigger), or record that
    the local authority will be notified. Audited."""
    _echo_decision(_desk(ctx).accept(proposal_id, by=by), as_json)


@propose.command("dismiss")
@click.argument("proposal_id")
@click.option("--reason", required=True, help="Why no visit is needed (kept with the decision and audited).")
@acting_option(help="Who decides (default: you): a role the trigger names.")
@json_option("Print the decision as JSON.")
@click.pass_context
def propose_dismiss(ctx: click.Context, proposal_id: str, reason: str, by: str, as_json: bool) -> None:
    """Dismiss a proposal with a reason. Audited."""
    _echo_decision(_desk(ctx).dismiss(proposal_id, by=by, reason=reason), as_json)


@propose.command("triggers")
@click.option("--school", metavar="ID", help="Only this school.")
@json_option("Print the triggers as JSON.")
@click.pass_context
def propose_triggers(ctx: click.Context, school: str | None, as_json: bool) -> None:
    """Each school's attendance triggers at its configured thresholds, with their clause and option name."""
    rt = runtime(ctx)
    found = {s: school_triggers(rt, s) for s in _schools(ctx, rt, school)}
    if as_json:
        emit_json({s: [t.model_dump(mode="json") for t in triggers] for s, triggers in found.items()})
        return
    for school_id, triggers in found.items():
        click.echo(f"{school_id}:")
        for t in triggers:
            limit = f"{'below' if t.below else 'at least'} {t.threshold:g}"
            option = f" [schools.{school_id}.triggers] {t.option}" if t.option else ""
            # A trigger's words from the school's plugin, as `hvc propose list` shows them: each line one line.
            click.echo(neutralise(f"  {t.id:<32} {t.measure.value} {limit} → {t.proposes.value} ({t.urgency.value})"
                                  f"{option}"))
            click.echo(neutralise(f"  {'':<32} {t.clause}"))


@propose.command("refresh")
@click.option("--school", metavar="ID", help="Only this school.")
@click.pass_context
def propose_refresh(ctx: click.Context, school: str | None) -> None:
    """Check the stored attendance against the triggers now, as every sync does at its end."""
    rt = runtime(ctx)
    for school_id in _schools(ctx, rt, school):
        click.echo(f"{school_id}: {proposals_line(refresh(rt, school_id))}")
