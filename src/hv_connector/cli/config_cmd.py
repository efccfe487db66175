"""``hvc config``: check the settings (naming each wrong one and its fix) and show them with secrets hidden."""

from __future__ import annotations

from typing import Any

import click

from hv_connector import humanize
from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.config.checks import (
    Problem,
    mis_problems,
    option_problems,
    plugin_problems,
    problems,
    redacted,
    sink_problems,
    trigger_problems,
    unreachable_steps,
)
from hv_connector.config.loading import ConfigSource, config_source
from hv_connector.errors import HvcError
from hv_connector.outbox.sinks import open_sinks
from hv_connector.plugins import merged_registry
from hv_connector.runtime import Runtime
from hv_connector.store.engine import parse_database_url
from hv_connector.text import neutralise
from hv_connector.watch.drill import drill_visit
from hv_connector.watch.schedule import VISITING_STAFF


@cli.group()
def config() -> None:
    """Check or show the settings (hvc.toml and HVC_* variables)."""


def _source(ctx: click.Context) -> ConfigSource:
    return config_source(runtime(ctx).config_path)


def disarming_problems(rt: Runtime) -> list[Problem]:
    """What would leave a school's rules silently disarmed: policy options its plugin cannot read, attendance
    trigger thresholds that name no trigger or are no number, and
    escalation steps nobody in its directory can take (the chain a drill runs). ``hvc watch`` will not
    start with any of these; an unknown role is refused when the settings load."""
    file = config_source(rt.config_path).path
    now = rt.clock.now()
    return (option_problems(rt.settings, rt.policies, file, now) + trigger_problems(rt.settings, rt.policies, file)
            + unreachable_steps(rt.settings, rt.policies, file, now, chain_visit=drill_visit,
                                visiting_staff=VISITING_STAFF))


def _describe(source: ConfigSource) -> str:
    if source.exists:
        return f"{source.path} (from {source.origin})"
    return f"{source.path} (not found: defaults and HVC_* variables only)"


@config.command("check")
@json_option("Print the problems as JSON.")
@click.pass_context
def config_check(ctx: click.Context, as_json: bool) -> None:
    """Validate the settings, the schools' policy plugins and what their MIS adapters need; exit 2 naming each
    problem and its fix."""
    rt = runtime(ctx)
    source = _source(ctx)
    settings = rt.settings  # a malformed file or value is a ConfigError: exit 2 with every setting named
    found = problems(settings, source)
    try:
        parse_database_url(settings.database.url)
    except HvcError as exc:
        found.append(Problem("database.url", str(exc)))
    found += mis_problems(settings, merged_registry(rt.pm, "mis_adapters"), source.path.name)
    found += sink_problems(settings, open_sinks(settings, merged_registry(rt.pm, "report_sinks"), settings.schools))
    found += plugin_problems(settings, rt.policies) + disarming_problems(rt)
    if as_json:
        emit_json({
            "config": str(source.path), "origin": source.origin, "found": source.exists,
            "ok": not found, "problems": [{"setting": p.setting, "message": p.message} for p in found],
        })
    else:
        click.echo(neutralise(f"Settings: {_describe(source)}"))
        click.echo(f"Schools: {', '.join(s.id for s in settings.schools) or 'none configured'}")
        for problem in found:
            click.echo(neutralise(f"  problem: {problem}"))  # a plugin's or a sink's words among them
        click.echo(f"{len(found)} problem(s)" if found else "OK: the settings are complete and every policy plugin is installed")
    if found:
        ctx.exit(2)


@config.command("show")
@json_option("Print the settings as JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print the effective settings (file, environment and defaults merged), every secret as **********."""
    shown = redacted(runtime(ctx).settings)
    if as_json:
        emit_json(shown)
        return
    click.echo(neutralise(f"# settings from {_describe(_source(ctx))}"))
    for key, value in _flatten(shown):
        click.echo(neutralise(f"{key} = {value}"))  # a setting to a line, whatever its value holds


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``("wonde.token", "**********")`` pairs; lists of tables are numbered from 1."""
    if isinstance(value, dict) and value:
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value, 1) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, "(none)" if value is None else humanize.yes_no(value) if isinstance(value, bool) else value)]
