"""``hvc sync`` (pupil background from the MIS), ``hvc sync status`` and ``hvc pupil show``.

``hvc sync`` shows a progress bar in a terminal and plain log lines when it
is not one (cron), then a summary line per school. Exit codes: 0 every school
synced, 1 some failed (the others are still written), 2 bad configuration.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hv_connector import humanize
from hv_connector.cli.common import cli, emit_json, json_option, log_access, pupil_argument, read_pupil, runtime
from hv_connector.cli.restrict_cmd import restrict
from hv_connector.cli.terminal import LOG_FORMAT, guard_logging, log_echo, unguarded
from hv_connector.clock import school_today
from hv_connector.config.checks import missing_adapter
from hv_connector.config.settings import SchoolSettings, Settings
from hv_connector.errors import ConfigError
from hv_connector.plugins import merged_registry
from hv_connector.proposals.refresh import proposals_line, refresh
from hv_connector.read.attendance import figure_lines
from hv_connector.read.briefing import PupilBriefing, flag, not_from_mis, pupil_briefing
from hv_connector.read.queries import sync_status as read_sync_status
from hv_connector.runtime import Runtime
from hv_connector.store.access import Seen
from hv_connector.sync.pipeline import MisAdapter, MisAdapterFactory, SchoolResult, sync_schools
from hv_connector.sync.pipeline import Progress as SyncProgress
from hv_connector.text import neutralise

log = logging.getLogger("hv_connector.sync.pipeline")

LOG_EVERY_PAGES = 20
"""Without a terminal, a progress line every this many pages per school."""


@cli.group(invoke_without_command=True)
@click.option("--school", "school_ids", multiple=True, metavar="ID", help="Sync only this school (repeatable).")
@click.option("--full", is_flag=True,
              help="Ignore the cursors and fetch everything; pupils the MIS no longer lists are archived.")
@json_option("Print the summary as JSON.")
@click.pass_context
def sync(ctx: click.Context, school_ids: tuple[str, ...], full: bool, as_json: bool) -> None:
    """Sync pupil background (contacts, medical, SEN, attendance) from each school's MIS."""
    if ctx.invoked_subcommand is not None:
        return
    rt = runtime(ctx)
    adapters = build_adapters(rt, school_ids)
    with _few_collections(), _reporting(sys.stderr.isatty() and not as_json,
                                        [adapter.school_id for _, adapter in adapters]) as on_progress:
        results = asyncio.run(sync_schools(rt.store, adapters, full=full, clock=rt.clock, on_progress=on_progress,
                                           after_write=lambda school: proposals_line(refresh(rt, school))))
    if as_json:
        emit_json([_result_json(r) for r in results])
    else:
        _print_summary(results)
    failed = [r.school_id for r in results if not r.ok]
    if failed:
        log_echo(f"hvc: {len(failed)} of {len(results)} schools failed to sync ({', '.join(failed)}); "
                 "the others are synced. See the messages above.", err=True)
        ctx.exit(1)


def build_adapters(rt: Runtime, school_ids: Sequence[str]) -> list[tuple[str, MisAdapter]]:
    """``(adapter name, adapter)`` per school to sync (the ones named, or every school set up to sync); bad config
    raises."""
    settings = rt.settings
    if school_ids:
        schools = [settings.school(school_id) for school_id in dict.fromkeys(school_ids)]
    else:
        schools = [school for school in settings.schools if school.syncs]
    if not schools:
        raise ConfigError("no school is set up to sync: add [schools.ID] with `mis_school_id` (the school's "
                          "Wonde id), or with `mis` naming another MIS adapter and its [schools.ID.mis_options], "
                          "to hvc.toml")
    registry = merged_registry(rt.pm, "mis_adapters")
    return [(school.mis, _adapter(registry, settings, school)) for school in schools]


def _adapter(registry: Mapping[str, MisAdapterFactory], settings: Settings, school: SchoolSettings) -> MisAdapter:
    """The adapter the school's ``mis`` setting names; an adapter no plugin registers is a config error."""
    factory = registry.get(school.mis)
    if factory is None:
        raise ConfigError(missing_adapter(school, registry))
    return factory(settings, school)


GC_THRESHOLD = 50_000
"""Objects allocated between collections of the youngest generation during a sync (Python's default is 700)."""


@contextmanager
def _few_collections() -> Iterator[None]:
    """Keep the cyclic collector out of the sync's way, which a page's tens of thousands of objects (none in a
    cycle: reference counting frees them) would otherwise set walking again and again.

    What the run has loaded so far (modules, plugins, model schemas) lives as long as the process, so it is
    frozen out of every collection; and the youngest generation is collected after :data:`GC_THRESHOLD`
    allocations instead of 700.
    """
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _reporting(terminal: bool, school_ids: list[str]) -> Iterator[Callable[[SyncProgress], None]]:
    """A progress bar per school in a terminal; otherwise timestamped log lines (for cron's mail)."""
    if not terminal:
        guard_logging(level=logging.WARNING, stream=sys.stderr, format=LOG_FORMAT)
        log.setLevel(logging.INFO)
        pages: dict[str, int] = {}

        def on_line(event: SyncProgress) -> None:
            pages[event.school_id] = pages.get(event.school_id, 0) + 1
            if pages[event.school_id] == 1 or pages[event.school_id] % LOG_EVERY_PAGES == 0:
                log.info("sync %s: %d records read, %d requests", event.school_id, event.records, event.requests)
            if event.done:
                log.log(logging.ERROR if event.failed else logging.INFO, "sync %s: %s after %d requests",
                        event.school_id, "FAILED" if event.failed else "finished", event.requests)

        yield on_line
        return
    console = Console(file=unguarded(sys.stderr))  # the bar's own escape sequences; log lines are filtered
    guard_logging(level=logging.WARNING, format="%(message)s", handlers=[_console_handler(console)])
    with Progress(SpinnerColumn(), TextColumn("{task.description:<16}"), BarColumn(),
                  TextColumn("{task.fields[records]:>7} records  {task.fields[requests]:>5} requests"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        tasks = {school_id: progress.add_task(school_id, total=None, records=0, requests=0)
                 for school_id in school_ids}

        def on_bar(event: SyncProgress) -> None:
            task = tasks[event.school_id]
            if event.done:
                label = f"{event.school_id} FAILED" if event.failed else event.school_id
                progress.update(task, description=label, total=1, completed=1, requests=event.requests)
            else:
                progress.update(task, records=event.records, requests=event.requests)

        yield on_bar


def _console_handler(console: Console) -> logging.Handler:
    from rich.logging import RichHandler

    return RichHandler(console=console, show_path=False, markup=False)


def _result_json(result: SchoolResult) -> dict[str, Any]:
    return {
        "school": result.school_id, "status": result.status, "added": result.added, "updated": result.updated,
        "archived": result.archived, "quarantined": result.quarantined, "requests": result.requests,
        "seconds": round(result.seconds, 2), "message": result.message or None, "proposals": result.after or None,
        "quarantine": [{"resource": q.resource, "record_id": q.record_id, "reason": q.reason}
                       for q in result.rejected],
    }


def _print_summary(results: list[SchoolResult]) -> None:
    log_echo(f"{'school':<16} {'status':<7} {'added':>7} {'updated':>7} {'archived':>8} {'quarantined':>11} "
             f"{'requests':>8} {'seconds':>7}")
    for r in results:
        log_echo(f"{r.school_id:<16} {r.status:<7} {r.added:>7} {r.updated:>7} {r.archived:>8} "
                 f"{r.quarantined:>11} {r.requests:>8} {r.seconds:>7.1f}")
    for r in results:
        if r.message:  # why a school failed, or what a school that synced did not share
            log_echo(f"  {r.school_id}: {r.message}")
        if r.after:
            log_echo(f"  {r.school_id}: proposals: {r.after}")
        for q in r.rejected:
            log_echo(f"  {r.school_id}: quarantined {q.resource} {q.record_id or '(no id)'}: {q.reason}")
        if r.quarantined > len(r.rejected):
            log_echo(f"  {r.school_id}: … and {r.quarantined - len(r.rejected)} more (`hvc sync status`)")


@sync.command("status")
@json_option("Print the status as JSON.")
@click.pass_context
def sync_status(ctx: click.Context, as_json: bool) -> None:
    """Show the last sync of each school and the records waiting in quarantine."""
    rt = runtime(ctx)
    with rt.store.connect() as conn:
        runs, held = read_sync_status(conn)
    synced = {run.school_id for run in runs}
    never = [s.id for s in rt.settings.schools if s.syncs and s.id not in synced]
    if as_json:
        emit_json({"schools": [run.model_dump(mode="json") for run in runs], "never_synced": never,
                   "quarantine": [item.model_dump(mode="json") for item in held]})
        return
    if not runs and not never:
        click.echo("No school has synced yet: run `hvc sync`.")
    for run in runs:
        when = humanize.moment(run.finished_at, missing="unfinished")
        click.echo(f"{run.school_id:<16} {run.status:<7} {when}  added {run.added}, updated {run.updated}, "
                   f"archived {run.archived}, quarantined {run.quarantined}, "
                   f"{run.requests} requests in {humanize.duration(run.seconds or 0)}")
        if run.message:
            click.echo(neutralise(f"    {run.message}"))  # a school's failure, in its MIS's words
    for school_id in never:
        click.echo(f"{school_id:<16} never synced: run `hvc sync --school {school_id}`")
    click.echo(f"\nQuarantine: {len(held)} record(s)" + (":" if held else " — nothing waiting."))
    for item in held:
        click.echo(neutralise(f"  {item.school_id} {item.resource} {item.record_id or '(no id)'} since "
                              f"{humanize.moment(item.first_seen_at)}: {item.reason}"))
    if held:
        click.echo("Fix these records in the MIS; the next sync picks them up and clears them here.")


@cli.group()
def pupil() -> None:
    """Read what the store holds about a pupil; keep the school's restrictions on them."""


pupil.add_command(restrict)


@pupil.command("show")
@pupil_argument
@json_option("Print the briefing as JSON.")
@click.pass_context
def pupil_show(ctx: click.Context, pupil_id: str, school_id: str | None, as_json: bool) -> None:
    """Show the briefing for PUPIL_ID (MIS id or UPN): what staff must read before a visit."""
    rt = runtime(ctx)
    today = school_today(rt.clock)
    school, mis_id, briefing = read_pupil(ctx, pupil_id, school_id, lambda conn, school, mis_id: pupil_briefing(
        conn, school, mis_id, today))
    log_access(ctx, "hvc pupil show", [Seen("pupil", mis_id, school, mis_id)])
    if as_json:
        emit_json(briefing.model_dump(mode="json"))
        return
    for line in briefing_lines(briefing, rt.staff_names(school)):
        click.echo(neutralise(line))  # each line one line, whatever the MIS text in it holds


def _incomplete(b: PupilBriefing, section: str, shown: bool) -> Iterator[str]:
    warning = b.incomplete(section) if shown else None
    if warning:
        yield f"  (note: {warning})"


def briefing_lines(b: PupilBriefing, names: Mapping[str, str] | None = None) -> Iterator[str]:
    """The briefing as plain text lines (MIS text as written; the caller neutralises each line).

    :param names: staff id → name in the pupil's school, to say who entered each restriction.
    """
    born = f", born {humanize.day(b.date_of_birth)}" if b.date_of_birth else ", date of birth not in the MIS"
    year = f", year {b.year_group}" if b.year_group else ""
    yield f"{b.display_name} ({b.school_id}, {b.mis_id}{born}{year})"
    ids = [f"{k} {v}" for k, v in (("UPN", b.upn), ("MIS id", b.native_id), ("UPI", b.upi),
                                   ("MIS feed id", b.source_id if b.source_id != b.mis_id else None)) if v]
    yield "Ids: " + ("; ".join(ids) if ids else "none from the MIS") + ("" if b.upn else " (no UPN: " +
                                                                       b.missing("education", "none in the MIS") + ")")
    if b.archived_at:
        yield f"LEFT THE SCHOOL: archived {humanize.day(b.archived_at)}"
    yield f"Address: {b.address_text or b.missing('address', 'not in the MIS')}"
    if b.synced_at:
        yield f"MIS data as of {humanize.moment(b.synced_at)}"
    yield ""
    yield ("The school's restrictions (entered by the DSL team):" if b.restrictions
           else "The school's restrictions: none entered (`hvc pupil restrict add`)")
    for r in b.restrictions:
        by = humanize.person(r.added_by, names or {})
        yield f"  !! {r.kind}{' — ' + r.person if r.person else ''}: {r.text} (#{r.id}, {by}, {humanize.day(r.added_at)})"
    yield "Alerts and orders from the MIS:" if b.alerts else f"Alerts and orders from the MIS: {b.missing('alerts', 'none')}"
    for alert in b.alerts:
        yield f"  ! {alert.kind}: {alert.text}"
    yield from _incomplete(b, "alerts", bool(b.alerts))
    yield not_from_mis()
    yield "Contacts (parental responsibility first):" if b.contacts else f"Contacts: {b.missing('contacts', 'none in the MIS')}"
    for c in b.contacts:
        flags = [flag(c.parental_responsibility, "PR", "no PR"),
                 flag(c.lives_with_pupil, "lives with pupil", "does not live with pupil")]
        flags += [f for f, on in (("NO CONTACT", c.no_contact), ("court order", c.court_order)) if on]
        phones = ", ".join(c.phones) or "no phone number"
        yield f"  {c.name} — {c.relationship or 'relationship not recorded'} [{'; '.join(flags)}]: {phones}"
    yield from _incomplete(b, "contacts", bool(b.contacts))
    for section, label, rows in (("medical", "Medical", [f"{m.kind}: {m.description}" for m in b.medical]),
                                 ("sen", "SEN", [s.need + (f" — {s.provision}" if s.provision else "") for s in b.sen])):
        nothing = "nothing recorded" if section == "medical" else "none recorded"
        yield f"{label}:" if rows else f"{label}: {b.missing(section, nothing)}"
        yield from (f"  {row}" for row in rows)
        yield from _incomplete(b, section, bool(rows))
    figures = [("MIS summary, period not stated", b.attendance_summary), ("this term", b.attendance_term),
               ("last three months", b.attendance_3m)]
    for label, figure in figures:
        if figure is None:
            if figure is b.attendance_summary:  # term and 3-month figures come from the register, below
                yield f"Attendance ({label}): {b.missing('attendance', 'not in the MIS')}"
        else:
            yield (f"Attendance ({label}): {figure.percentage}% ({figure.attended} of {figure.possible} sessions; "
                   f"{figure.absences()})")
    yield f"Attendance from the register, as of {humanize.day(b.attendance.as_of)}:" if b.attendance else "Attendance:"
    for line, warn in figure_lines(b.attendance):
        yield f"  {'! ' if warn else ''}{line}"
    yield "Earlier visits at this address:" if b.earlier_visits else "Earlier visits at this address: none"
    for v in b.earlier_visits:
        who = "this pupil" if v.same_pupil else f"pupil {v.pupil_mis_id or 'not recorded'}"
        yield f"  {humanize.day(v.planned_start)} {v.state} ({who}, {v.reason or 'no reason'}): {v.outcome}"
