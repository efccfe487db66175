"""``hvc db``: bring the store's schema up to date, or say where it stands."""

from __future__ import annotations

import click

from hv_connector.cli.common import cli, emit_json, json_option, runtime
from hv_connector.store import Store
from hv_connector.store.engine import create_store_engine, parse_database_url
from hv_connector.store.migrate import head_revision, upgrade_sql


@cli.group()
def db() -> None:
    """The store: upgrade its schema, or show its revision."""


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


@db.command("rotate-key")
@click.pass_context
def db_rotate_key(ctx: click.Context) -> None:
    """Re-encrypt every code word under a new key (code-word.key beside hvc.toml); the old one is kept as .old."""
    from hv_connector.config.loading import config_source
    from hv_connector.visits.codewords import CodeWords  # cryptography: only for this command

    rt = runtime(ctx)
    words = CodeWords.beside(config_source(rt.config_path).path)
    count = words.rotate(rt.store)
    click.echo(f"Re-encrypted {count} code word(s) with a new key in {words.key_path}.")
    click.echo(f"Delete {words.key_path.name}.old once a backup of the store taken from now on exists.")
