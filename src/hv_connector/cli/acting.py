"""Who a command acts as: the signed-in person (:mod:`hv_connector.access.identity`), and the schools they see.

``--as`` defaults to the signed-in person; naming someone else is refused unless they may act for others.
A command that reads or acts on a school's records calls :func:`require_school` first, so the CLI and
the dashboard refuse another school's records the same way (through
:meth:`~hv_connector.visits.directory.Directory.require_school`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hv_connector.cli.common import runtime
from hv_connector.errors import AccessRefused, InputError, excerpt

if TYPE_CHECKING:
    from hv_connector.access.identity import Identity
    from hv_connector.visits.directory import Directory

FC = TypeVar("FC", bound=Callable[..., Any])

AS_HELP = "Act as this member of staff (default: you, known by your SSH key or login)."


def directory(ctx: click.Context) -> Directory:
    """The staff directories of the configured schools."""
    from hv_connector.visits.directory import Directory

    return Directory.from_settings(runtime(ctx).settings)


def identity(ctx: click.Context) -> Identity:
    """The person running ``hvc`` (found once per run); their audit entries say how they were identified."""
    from hv_connector.access.identity import current_login, identify
    from hv_connector.store.audit import identified_by

    root = ctx.find_root()
    if "identity" not in root.obj:
        found = identify(directory(ctx), runtime(ctx).settings.access, current_login(), root.obj.get("ssh_key"))
        root.obj["identity"] = found
        root.with_resource(identified_by(found.via))
    who: Identity = root.obj["identity"]
    return who


def acting_as(ctx: click.Context, named: str | None) -> str | None:
    """The staff id a command acts as: ``named`` if the signed-in person may name them, else the person.

    :raises AccessRefused: ``named`` is someone else and the person may not act for others.
    """
    who = identity(ctx)
    if not named or named == who.staff_id:
        return who.staff_id
    if not who.acts_for_others:
        raise AccessRefused(f"--as {excerpt(named)}: you are signed in as {who.describe(directory(ctx))} and act "
                            "only as yourself; leave out --as (only [access] act_for_others and admins act for others)")
    return named


def acting_option(dest: str = "by", *, required: bool = True, help: str = AS_HELP,
                  envvar: str | None = None) -> Callable[[FC], FC]:
    """``--as STAFF_ID``, passed on as ``dest``: the signed-in person unless they may name someone else."""

    def check(ctx: click.Context, _param: click.Parameter, named: str | None) -> str | None:
        staff_id = acting_as(ctx, named)
        if staff_id is None and required:
            raise InputError(f"--as: you ({identity(ctx).via}) are in no staff directory; name who acts with "
                             "--as STAFF_ID, or add your login or SSH key to your directory entry")
        return staff_id

    return click.option("--as", dest, metavar="STAFF_ID", callback=check, help=help, envvar=envvar)


def require_school(ctx: click.Context, school_id: str, what: str) -> None:
    """Refuse ``what`` (e.g. "visit v-1") unless the signed-in person works in ``school_id`` or acts for others.

    :raises AccessRefused: another school's record, or a person in no directory.
    """
    who = identity(ctx)
    if who.acts_for_others:
        return
    if who.staff_id is None:
        raise AccessRefused(f"{what}: you ({who.via}) are in no staff directory; ask whoever runs the server to "
                            "add your login or SSH key to your entry")
    directory(ctx).require_school(who.staff_id, school_id, what)


def visible_schools(ctx: click.Context) -> list[str] | None:
    """The schools the signed-in person may read (``None``: every school)."""
    who = identity(ctx)
    if who.acts_for_others:
        return None
    return directory(ctx).schools_of(who.staff_id) if who.staff_id else []
