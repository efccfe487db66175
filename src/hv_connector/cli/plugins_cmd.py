"""``hvc plugins``: what is loaded, and a new policy plugin for a school to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from hv_connector import __version__
from hv_connector.cli.common import cli, emit_json, runtime
from hv_connector.plugins import plugin_distribution, plugin_version
from hv_connector.cli.scaffold import new_plugin


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plugins as JSON.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins: name, version, the school they serve, their hooks and rule ids."""
    if ctx.invoked_subcommand is not None:
        return
    rt = runtime(ctx)
    pm, policies = rt.pm, rt.policies
    # Every installed policy plugin, whether or not this configuration gives it a school.
    served = {id(plugin): info for _, plugin, info in policies.policy_plugins()}
    broken = {b.name: b for b in policies.broken()}
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        info = served.get(id(plugin))
        usable = "policy_rules" in hooks and name not in broken
        rows.append({
            "name": name,
            "distribution": plugin_distribution(pm, plugin) or "hv-connector (built in)",
            "version": plugin_version(pm, plugin) or __version__,
            "school": info.school_id if info else None,
            "school_name": info.school_name if info else None,
            "hooks": hooks,
            "rule_ids": [r.rule_id for r in (plugin.policy_rules() or [])] if usable else [],
            "error": broken[name].error if name in broken else None,
        })
    # Plugins that failed to import have no plugin object: listed by name, with their schools and error.
    rows += [{"name": b.name, "distribution": None, "version": None, "school": None, "school_name": None,
              "schools": list(b.schools), "hooks": [], "rule_ids": [], "error": b.error}
             for b in broken.values() if not pm.has_plugin(b.name)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        if row["error"] is not None:
            click.echo(f"{broken[row['name']]}")
            continue
        school = f"school {row['school']} ({row['school_name']})" if row["school"] else "no school"
        click.echo(f"{row['name']}  {row['distribution']} {row['version']}  — {school}")
        click.echo(f"    hooks: {', '.join(row['hooks'])}")
        if row["rule_ids"]:
            click.echo(f"    rules: {', '.join(row['rule_ids'])}")


@plugins.command("new")
@click.argument("school_id")
@click.option("--name", "school_name", default=None, help="The school's full name.")
@click.option("--dir", "parent", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where to create the plugin folder.")
def plugins_new(school_id: str, school_name: str | None, parent: Path) -> None:
    """Create a policy plugin for SCHOOL_ID from the template, ready to fill in and test."""
    target = new_plugin(school_id, school_name or school_id.replace("-", " ").title(), parent)
    click.echo(f"Created {target}. Next:")
    click.echo(f"  1. Write your policy's rules in {target}/src/hvc_{school_id.replace('-', '_')}/__init__.py")
    click.echo(f"  2. pip install -e {target}")
    click.echo(f"  3. pytest {target}/tests")
