"""``hvc policy``: what a school's policy requires, and what it says about a visit."""

from __future__ import annotations

from pathlib import Path

import click

from hv_connector import humanize
from hv_connector.cli.common import Choice, cli, echo_findings, emit_json, json_option, parse_moment, runtime
from hv_connector.models import RuleInfo, Severity, Stage, counts
from hv_connector.text import neutralise
from hv_connector.visits.files import load_visit

STAGES = [s.value for s in Stage]


@cli.group()
def policy() -> None:
    """Show a school's policy rules, or check a visit against them."""


@policy.command("show")
@click.argument("school")
@json_option("Print the rules as JSON.")
@click.pass_context
def policy_show(ctx: click.Context, school: str, as_json: bool) -> None:
    """List the rules SCHOOL's policy (and the core) applies, stage by stage."""
    policies = runtime(ctx).policies
    info = policies.info(school)
    rules = policies.rules(school)
    reasons = policies.reasons(school)
    if as_json:
        emit_json({
            "policy": info.model_dump(mode="json"),
            "reasons": [r.model_dump(mode="json") for r in reasons],
            "rules": [r.model_dump(mode="json") for r in rules],
        })
        return
    review = f"review by {humanize.day(info.review_by)}" if info.review_by else "no review date given"
    # The plugin's words (its school, its policy, its rules): each line one line, whatever they hold.
    click.echo(neutralise(f"{info.school_name} — {info.policy_name} ({info.policy_date or 'undated'}; {review})"))
    click.echo(neutralise(f"Source: {info.source_document}"))
    click.echo(neutralise("Reasons: " + ", ".join(r.code for r in reasons)))
    for stage in Stage:
        staged = [r for r in rules if r.stage is stage]
        if staged:
            click.echo(f"\n[{stage.value}]")
            for rule in staged:
                _echo_rule(rule)


def _echo_rule(rule: RuleInfo) -> None:
    click.echo(neutralise(f"  {rule.severity.value:<5}  {rule.rule_id}"))
    click.echo(neutralise(f"         {rule.summary}"))
    click.echo(neutralise(f"         ({rule.clause})"))


@policy.command("check")
@click.argument("visit_file", type=click.Path(path_type=Path))
@click.option("--stage", type=Choice(STAGES), help="Check only this stage.")
@click.option("--all-stages", is_flag=True,
              help="Check every stage, including those the visit has not reached (e.g. the report).")
@click.option("--at", "at", help="Check as of this time (ISO; default now).")
@json_option("Print the findings as JSON.")
@click.pass_context
def policy_check(ctx: click.Context, visit_file: Path, stage: str | None, all_stages: bool, at: str | None,
                 as_json: bool) -> None:
    """Check VISIT_FILE against its school's policy; exit 1 if any block stands.

    By default every stage the visit has reached is checked: up to sign-out
    before staff leave, up to return while they are out, all stages once they
    are back or a report is recorded.
    """
    rt = runtime(ctx)
    visit = load_visit(visit_file)
    now = parse_moment(at, "--at") or rt.clock.now()
    options = rt.options(visit.school)  # the school's configured options, as the visit lifecycle reads them
    if stage is not None:
        findings = rt.policies.findings(visit, Stage(stage), now, options)
    else:
        findings = rt.policies.all_findings(visit, now, options, upto=None if all_stages else visit.stage_reached)
    tally = counts(findings)
    if as_json:
        emit_json({
            "school": visit.school,
            "checked_at": now.isoformat(),
            "counts": {s.value: n for s, n in tally.items()},
            "findings": [f.model_dump(mode="json") for f in findings],
        })
    else:
        echo_findings(findings)
        click.echo(
            f"\n{tally[Severity.BLOCK]} block, {tally[Severity.WARN]} warn, {tally[Severity.INFO]} info"
            + neutralise(f" — {visit.school}, {visit.pupil.name}")  # the visit file's pupil, on this line
        )
    if tally[Severity.BLOCK]:
        ctx.exit(1)

