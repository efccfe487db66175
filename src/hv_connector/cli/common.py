"""The root ``hvc`` group and what every command shares: the runtime, JSON output, time options."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hv_connector import __version__
from hv_connector.cli.lazy import LazyGroup
from hv_connector.clock import LONDON
from hv_connector.errors import Interrupted
from hv_connector.text import json_output, neutralise

FC = TypeVar("FC", bound=Callable[..., Any])
T = TypeVar("T")

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hv_connector.models import Finding
    from hv_connector.runtime import Runtime
    from hv_connector.store.access import Seen
    from hv_connector.visits.records import Standing


HELP = """hv-connector: safe, well-recorded school home visits.

\b
Exit codes, for scripts and schedulers:
  0  done
  1  refused by the policy or the visit's state, or some schools/records failed
  2  bad input or configuration (the message names the setting or field)
  130  stopped by Ctrl-C (one line says so; the watch finishes its tick first)
"""


class RootGroup(LazyGroup):
    """The ``hvc`` group: Ctrl-C anywhere in a command ends it as :class:`~hv_connector.errors.Interrupted`.

    Click would print an empty line and raise ``Abort``; ``hvc`` prints one line and exits 130.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None


# Commands join this group lazily: hv_connector.cli lists them (see :mod:`hv_connector.cli.lazy`).
@click.group(cls=RootGroup, help=HELP)
@click.version_option(__version__, prog_name="hvc")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file to read instead of hvc.toml in the config directory (or set HVC_CONFIG).",
)
@click.option("--ssh-key", "ssh_key", metavar="FINGERPRINT", hidden=True,
              help="Set by the service account's authorized_keys (`hvc access authorized-keys`): who signed in.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, ssh_key: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["ssh_key"] = ssh_key


def runtime(ctx: click.Context) -> Runtime:
    """The run's :class:`Runtime`, built on first use (a test may put its own in ``obj["runtime"]``)."""
    # Imported here: settings, plugins and models cost more than `hvc --version` and `hvc --help` need.
    from hv_connector.runtime import Runtime

    root = ctx.find_root()
    root.ensure_object(dict)
    if "runtime" not in root.obj:
        root.obj["runtime"] = Runtime(config_path=root.obj.get("config_path"))
        root.call_on_close(root.obj["runtime"].close)
    rt: Runtime = root.obj["runtime"]
    return rt


class Choice(click.Choice):  # type: ignore[type-arg]
    """A choice of values whose "missing" message is one line: click's puts each value after a tab, which the output
    guard shows as ``\\x09`` (:mod:`hv_connector.cli.terminal`)."""

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None) -> str:
        return f"Choose one of: {', '.join(str(choice) for choice in self.choices)}"


def json_option(help: str) -> Callable[[FC], FC]:
    """The ``--json`` flag, passed on as ``as_json``: the command prints its result with :func:`emit_json`."""
    return click.option("--json", "as_json", is_flag=True, help=help)


PUPIL_SCHOOL_HELP = "The pupil's school (when the id is in several)."


def pupil_argument(func: FC) -> FC:
    """``PUPIL_ID`` and ``--school ID``, passed on as ``pupil_id`` and ``school_id``: the command resolves them
    with :func:`~hv_connector.read.briefing.find_pupil`."""
    with_school = click.option("--school", "school_id", metavar="ID", help=PUPIL_SCHOOL_HELP)(func)
    return click.argument("pupil_id")(with_school)


def read_pupil(ctx: click.Context, pupil_id: str, school_id: str | None,
               read: Callable[[Connection, str, str], T]) -> tuple[str, str, T]:
    """The pupil :func:`pupil_argument` names, as ``(school, mis_id)``, and what ``read(conn, school, mis_id)``
    gives, read in the same connection to the store."""
    from hv_connector.cli.acting import require_school  # a module that imports this one
    from hv_connector.read.briefing import find_pupil  # the read layer loads pydantic models: only when asked

    with runtime(ctx).store.connect() as conn:
        school, mis_id = find_pupil(conn, pupil_id, school_id)
        require_school(ctx, school, f"pupil {pupil_id}")
        return school, mis_id, read(conn, school, mis_id)


def log_access(ctx: click.Context, via: str, seen: Iterable[Seen], by: str | None = None) -> None:
    """Record in the access log that ``by`` (default: the person signed in, else the OS login) was shown ``seen``
    through ``via`` (one statement)."""
    from hv_connector.cli.acting import identity  # a module that imports this one
    from hv_connector.store import access

    by = by or identity(ctx).staff_id
    rt = runtime(ctx)
    with rt.store.begin() as conn:
        access.record(conn, access.reader(via, by), seen, rt.clock.now())


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON for scripts (control characters in it as ``\\uXXXX`` escapes)."""
    click.echo(json_output(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def parse_moment(value: str | None, option: str) -> datetime | None:
    """Parse an ISO time (:func:`~hv_connector.visits.input.parse_time`); a naive one is London wall-clock time."""
    from hv_connector.visits.input import parse_time  # the visits package loads pydantic models: only when asked

    return None if value is None else parse_time(value, option, naive_zone=LONDON)


def echo_findings(findings: list[Finding], standing: Standing | None = None,
                  names: Mapping[str, str] | None = None) -> None:
    """Findings by stage: severity, rule id, message and the clause; overrides and acknowledgements marked.

    :param names: staff id → name, to say who overrode or acknowledged.
    """
    # The read layer's findings text loads the models: only for the commands that print findings.
    from hv_connector.read.findings import NO_FINDINGS, findings_by_stage

    if not findings:
        click.echo(NO_FINDINGS)
        return
    for group in findings_by_stage(findings, overrides=standing.overrides if standing else (),
                                   acknowledgements=standing.acknowledgements if standing else (), names=names):
        click.echo(f"[{group.stage.value}]")
        for line in group.lines:
            finding = line.finding
            mark = f"  [{line.decision}]" if line.decision else ""
            # A plugin's message and clause: each line one line, whatever they hold.
            click.echo(neutralise(f"  {finding.severity.value.upper():<5}  {finding.rule_id}: {finding.message}{mark}"))
            click.echo(neutralise(f"         ({finding.clause})"))
