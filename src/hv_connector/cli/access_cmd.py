"""``hvc access``: who you are signed in as, and the service account's SSH entry for each member of staff."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from hv_connector.access.keys import authorized_keys
from hv_connector.cli.acting import directory, identity
from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.config.loading import config_source
from hv_connector.text import neutralise


@cli.group()
def access() -> None:
    """Who you are signed in as; the service account's SSH keys for staff."""


def _hvc_path() -> Path:
    """The ``hvc`` this run started from (the forced command runs the same one)."""
    found = shutil.which("hvc") if Path(sys.argv[0]).name != "hvc" else sys.argv[0]
    return Path(found or sys.argv[0]).resolve()


def _lines(ctx: click.Context, hvc: Path | None) -> list[str]:
    config = config_source(runtime(ctx).config_path).path.resolve()
    return authorized_keys(directory(ctx), hvc or _hvc_path(), config)


@access.command("whoami")
@json_option("Print who you are as JSON.")
@click.pass_context
def whoami(ctx: click.Context, as_json: bool) -> None:
    """Say who hvc takes you for, how it knows, and which schools you see."""
    who, staff = identity(ctx), directory(ctx)
    schools = staff.schools_of(who.staff_id) if who.staff_id else []
    if as_json:
        emit_json({"login": who.login, "staff_id": who.staff_id, "identified_by": who.via, "schools": schools,
                   "acts_for_others": who.acts_for_others})
        return
    click.echo(neutralise(f"You are {who.describe(staff)}."))  # a name from the staff directory
    click.echo(f"Schools: {', '.join(schools) or 'none'}.")
    click.echo("You may act for others with --as." if who.acts_for_others else "You act only as yourself.")


@access.command("authorized-keys")
@click.option("--hvc", "hvc", type=click.Path(dir_okay=False, path_type=Path),
              help="The hvc the forced command runs (default: this one).")
@click.pass_context
def authorized_keys_cmd(ctx: click.Context, hvc: Path | None) -> None:
    """Print the service account's authorized_keys: each staff key forces hvc to run as its owner.

    Install with: hvc access authorized-keys > ~hvc/.ssh/authorized_keys (rerun when the directory changes),
    or let sshd ask `hvc access keys` (AuthorizedKeysCommand) instead.
    """
    for line in _lines(ctx, hvc):
        click.echo(line)


@access.command("keys")
@click.argument("user")
@click.pass_context
def keys(ctx: click.Context, user: str) -> None:
    """For sshd's AuthorizedKeysCommand (`hvc access keys %u`): the service account's keys, none for others."""
    if user == runtime(ctx).settings.access.service_account:
        for line in _lines(ctx, None):
            click.echo(line)
