"""``hvc db``: bring the store's schema up to date, say where it stands, back it up and restore it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.errors import StoreError
from hv_connector.store import Store
from hv_connector.store.engine import create_store_engine, parse_database_url, sqlite_path
from hv_connector.store.migrate import head_revision, upgrade_sql
from hv_connector.text import neutralise

if TYPE_CHECKING:
    from hv_connector.store.backup import Checked


@cli.group()
def db() -> None:
    """The store: upgrade its schema, show its revision, back it up, restore it."""


def _unchecked_store(ctx: click.Context) -> Store:
    """The configured store, opened without the schema check ``Store.open`` makes (these commands fix it)."""
    return Store(create_store_engine(runtime(ctx).settings.database.url))


@db.command("upgrade")
@json_option("Print the result as JSON.")
@click.option("--sql", "as_sql", is_flag=True,
              help="Print the SQL instead of running it, for a DBA to review and run (nothing is changed).")
@click.option("--from", "start", metavar="REV", help="With --sql: the revision the database is at (`hvc db status`).")
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool, as_sql: bool, start: str | None) -> None:
    """Create the store's tables or migrate them to this version's schema (safe to run again)."""
    if as_sql:
        dialect = parse_database_url(runtime(ctx).settings.database.url).get_backend_name()
        click.echo(upgrade_sql(dialect, start), nl=False)
        return
    with _unchecked_store(ctx) as store:
        before, after, where = store.revision(), store.upgrade(), store.display_url
    if as_json:
        emit_json({"store": where, "from": before, "to": after})
    elif before == after:
        click.echo(f"The store at {where} is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the store at {where} from revision {before or 'none'} to {after}.")


@db.command("status")
@json_option("Print the status as JSON.")
@click.pass_context
def db_status(ctx: click.Context, as_json: bool) -> None:
    """Show the store's location and schema revision; exit 1 if it needs `hvc db upgrade`."""
    with _unchecked_store(ctx) as store:
        current, where = store.revision(), store.display_url
    head = head_revision()
    if as_json:
        emit_json({"store": where, "revision": current, "head": head, "current": current == head})
    else:
        click.echo(f"Store: {where}\nRevision: {current or 'none'} (this version needs {head})")
        if current != head:
            click.echo("Run `hvc db upgrade`.")
    if current != head:
        ctx.exit(1)


def _store_file(ctx: click.Context) -> Path:
    """The SQLite file of the configured store; a :class:`StoreError` saying how for PostgreSQL."""
    from hv_connector.store.backup import POSTGRES_HOW

    path = sqlite_path(parse_database_url(runtime(ctx).settings.database.url))
    if path is None:
        raise StoreError(POSTGRES_HOW)
    return path


def _held(checked: Checked) -> str:
    chain = "intact" if checked.broken_at is None else f"BROKEN at entry {checked.broken_at}"
    return f"{checked.visits} visit(s), {checked.entries} audit entries, audit chain {chain}"


@db.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default: backups/hvc-<UTC time>.db beside the store). Never overwritten.")
@click.option("--keep-days", type=click.IntRange(min=1), metavar="DAYS",
              help="Then delete backups in the same folder older than DAYS.")
@click.pass_context
def db_backup(ctx: click.Context, out: Path | None, keep_days: int | None) -> None:
    """Copy the live SQLite store to a file only its owner can read (writers carry on); exit 1 if the copy's
    audit chain is broken. For PostgreSQL, say how (pg_dump)."""
    from hv_connector.store.backup import backup, default_backup, prune

    store_file = _store_file(ctx)
    target = out or default_backup(store_file, runtime(ctx).clock.now())
    checked = backup(store_file, target)
    click.echo(neutralise(f"Backed up the store to {target}: {_held(checked)}."))
    if keep_days is not None:
        for old in prune(target.parent, keep_days):
            click.echo(neutralise(f"Deleted {old} (older than {keep_days} days)."))
    if checked.broken_at is not None:
        ctx.exit(1)


@db.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the store without asking (stop hvc-watch first).")
@click.pass_context
def db_restore(ctx: click.Context, backup_file: Path, yes: bool) -> None:
    """Replace the SQLite store with BACKUP_FILE once its audit chain checks (stop the watch and timers first)."""
    from hv_connector.store.backup import restore

    store_file = _store_file(ctx)
    if not yes:
        click.confirm(f"Replace the store at {store_file} with {backup_file}?", abort=True)
    checked = restore(backup_file, store_file)
    click.echo(neutralise(f"Restored {backup_file} to {store_file}: {_held(checked)}."))


@db.command("rotate-key")
@click.pass_context
def db_rotate_key(ctx: click.Context) -> None:
    """Re-encrypt every code word under a new key (code-word.key beside hvc.toml); the old one is kept as .old."""
    from hv_connector.config.loading import config_source
    from hv_connector.visits.codewords import CodeWords  # cryptography: only for this command

    rt = runtime(ctx)
    words = CodeWords.beside(config_source(rt.config_path).path)
    count = words.rotate(rt.store)
    click.echo(neutralise(f"Re-encrypted {count} code word(s) with a new key in {words.key_path}."))
    click.echo(neutralise(f"Delete {words.key_path.name}.old once a backup of the store taken from now on exists."))
