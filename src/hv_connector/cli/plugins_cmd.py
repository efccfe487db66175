"""``hvc plugins``: what is loaded, and a new policy plugin for a school to fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hv_connector import __version__
from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.cli.scaffold import new_plugin
from hv_connector.models import Visit
from hv_connector.plugins import Policies, plugin_distribution, plugin_version
from hv_connector.testing import base_visit, check_contract
from hv_connector.text import neutralise


@cli.group(invoke_without_command=True)
@json_option("Print the plugins as JSON.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins: name, version, the school they serve, their hooks and rule ids.

    Each policy plugin is checked against the plugin contract (``hv_connector.testing.check_contract``);
    exits 1 when any breaks it or cannot be loaded (a broken plugin is listed with its schools and error).
    """
    if ctx.invoked_subcommand is not None:
        return
    rt = runtime(ctx)
    pm = rt.pm
    # Every installed policy plugin, whether or not this configuration gives it a school, each under its own id.
    policies = Policies(pm)
    served = {id(plugin): info for _, plugin, info in policies.policy_plugins()}
    broken = {b.name: b for b in rt.policies.broken()}
    rows: list[dict[str, Any]] = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        info = served.get(id(plugin))
        rules = getattr(plugin, "policy_rules", None) if "policy_rules" in hooks and name not in broken else None
        rows.append({
            "name": name,
            "distribution": plugin_distribution(pm, plugin) or "hv-connector (built in)",
            "version": plugin_version(pm, plugin) or __version__,
            "school": info.school_id if info else None,
            "school_name": info.school_name if info else None,
            "hooks": hooks,
            "rule_ids": [r.rule_id for r in (rules() or [])] if rules else [],
            "error": broken[name].error if name in broken else None,
            "contract": (contract_problem(policies, info.school_id) or "ok") if info and name not in broken else None,
        })
    # Plugins that failed to import have no plugin object: listed by name, with their schools and error.
    rows += [{"name": b.name, "distribution": None, "version": None, "school": None, "school_name": None,
              "schools": list(b.schools), "hooks": [], "rule_ids": [], "error": b.error, "contract": None}
             for b in broken.values() if not pm.has_plugin(b.name)]
    failing = [row for row in rows if row["contract"] not in (None, "ok")]
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            if row["error"] is not None:
                click.echo(f"{broken[row['name']]}")
                continue
            school = f"school {row['school']} ({row['school_name']})" if row["school"] else "no school"
            # The plugin's own words (its distribution, its school's name): on this one line, whatever they hold.
            click.echo(neutralise(f"{row['name']}  {row['distribution']} {row['version']}  — {school}"))
            click.echo(f"    hooks: {', '.join(row['hooks'])}")
            if row["rule_ids"]:
                click.echo(f"    rules: {', '.join(row['rule_ids'])}")
            if row["contract"] is not None:
                click.echo(f"    contract: {row['contract']}")
    if failing:
        names = ", ".join(row["name"] for row in failing)
        click.echo(f"{len(failing)} plugin(s) break the plugin contract: {names}. Run the plugin's own tests "
                   "(`pytest plugins/<name>`) to see why, and fix or uninstall it.", err=True)
    if failing or broken:
        ctx.exit(1)


def contract_problem(policies: Policies, school: str) -> str | None:
    """The first way ``school``'s plugin breaks the plugin contract, or ``None`` when it keeps it.

    Checked on a plain daytime visit for the school's first reason, as a plugin's own
    ``PolicyKit.check_contract`` does on its baseline visit.
    """
    try:
        reasons = policies.reasons(school)
        sample = Visit.model_validate(base_visit(school, reason=reasons[0].code if reasons else ""))
        check_contract(policies, school, sample)
    except Exception as exc:  # a plugin's own bug is a broken contract too: report it, keep listing the rest
        return f"{type(exc).__name__}: {exc}"
    return None


@plugins.command("new")
@click.argument("school_id")
@click.option("--name", "school_name", default=None, help="The school's full name.")
@click.option("--dir", "parent", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where to create the plugin folder.")
def plugins_new(school_id: str, school_name: str | None, parent: Path) -> None:
    """Create a policy plugin for SCHOOL_ID from the template, ready to fill in and test."""
    target = new_plugin(school_id, school_name or school_id.replace("-", " ").title(), parent)
    click.echo(f"Created {target}. Next:")
    module = f"{target}/src/hvc_{school_id.replace('-', '_')}"
    click.echo(f"  1. Write down your policy in {module}/policy.py and its rules in {module}/rules.py")
    click.echo(f"  2. pip install -e {target}")
    click.echo(f"  3. pytest {target}/tests")
