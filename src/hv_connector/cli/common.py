"""The root ``hvc`` group and what every command shares: the runtime, JSON output, time options."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hv_connector import __version__
from hv_connector.clock import LONDON
from hv_connector.models import Finding, Stage
from hv_connector.runtime import Runtime

if TYPE_CHECKING:
    from hv_connector.visits.records import Standing


HELP = """hv-connector: safe, well-recorded school home visits.

\b
Exit codes, for scripts and schedulers:
  0  done
  1  refused by the policy or the visit's state, or some schools/records failed
  2  bad input or configuration (the message names the setting or field)
"""


@click.group(help=HELP)
@click.version_option(__version__, prog_name="hvc")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file to read instead of hvc.toml in the config directory (or set HVC_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def runtime(ctx: click.Context) -> Runtime:
    """The run's :class:`Runtime`, built on first use (a test may put its own in ``obj["runtime"]``)."""
    root = ctx.find_root()
    root.ensure_object(dict)
    if "runtime" not in root.obj:
        root.obj["runtime"] = Runtime(config_path=root.obj.get("config_path"))
        root.call_on_close(root.obj["runtime"].close)
    return root.obj["runtime"]


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON for scripts."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def parse_moment(value: str | None, option: str) -> datetime | None:
    """Parse an ISO time (:func:`~hv_connector.visits.input.parse_time`); a naive one is London wall-clock time."""
    from hv_connector.visits.input import parse_time  # the visits package loads pydantic models: only when asked

    return None if value is None else parse_time(value, option, naive_zone=LONDON)


def echo_findings(findings: list[Finding], standing: Standing | None = None,
                  name: Callable[[str], str] = str) -> None:
    """Findings by stage: severity, rule id, message and the clause; overrides and acknowledgements marked.

    :param name: turns a staff id into the person's name.
    """
    overridden = {o.rule_id: o for o in standing.overrides} if standing else {}
    acked = {a.rule_id: a for a in standing.acknowledgements} if standing else {}
    if not findings:
        click.echo("No findings: the policy is satisfied at the stages checked.")
        return
    for stage in Stage:
        staged = [f for f in findings if f.stage is stage]
        if not staged:
            continue
        click.echo(f"[{stage.value}]")
        for finding in staged:
            mark = ""
            if finding.rule_id in overridden:
                override = overridden[finding.rule_id]
                mark = f"  [overridden by {name(override.by)}: {override.text}]"
            elif finding.rule_id in acked:
                mark = f"  [acknowledged by {name(acked[finding.rule_id].by)}]"
            click.echo(f"  {finding.severity.value.upper():<5}  {finding.rule_id}: {finding.message}{mark}")
            click.echo(f"         ({finding.clause})")
