"""``hvc escalation``: acknowledge an alarm, escalate now, stand down, and list what is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from hv_connector.cli.acting import acting_option, require_school, visible_schools
from hv_connector.cli.common import cli, emit_json, json_option, log_access, runtime
from hv_connector.store.access import Seen
from hv_connector.text import neutralise
from hv_connector.watch.escalations import Escalations, EscalationView
from hv_connector.watch.schedule import wall
from hv_connector.watch.tick import Watch


def _escalations(ctx: click.Context) -> Escalations:
    return Escalations(Watch.from_runtime(runtime(ctx)))


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _in_my_school(ctx: click.Context, escalation_id: int) -> None:
    require_school(ctx, _escalations(ctx).get(escalation_id).school_id, f"escalation {escalation_id}")


def _acting(json_help: str, note_help: str | None = None) -> Callable[[_Command], _Command]:
    """The options of a command that acts on the watch: ``--as`` (passed on as ``by``), ``--note`` when
    ``note_help`` is given, ``--json``; the callback takes the click context first."""
    def decorate(func: _Command) -> _Command:
        command = json_option(json_help)(click.pass_context(func))
        if note_help is not None:
            command = click.option("--note", default="", help=note_help)(command)
        return cast(_Command, acting_option()(command))
    return decorate


@cli.group("escalation")
def escalation() -> None:
    """Act on the watch's alarms: acknowledge, escalate now, stand down (staff safe), list."""


@escalation.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include closed events and reminders.")
@click.option("--visit", "visit_id", help="Only this visit's events.")
@json_option("Print the events as JSON.")
@click.pass_context
def escalation_list(ctx: click.Context, show_all: bool, visit_id: str | None, as_json: bool) -> None:
    """List open escalation events (who acknowledged each, and when)."""
    mine = visible_schools(ctx)
    events = [event for event in _escalations(ctx).list(open_only=not show_all, visit_id=visit_id)
              if mine is None or event.school_id in mine]
    log_access(ctx, "hvc escalation list", [Seen("visit", e.visit_id, e.school_id) for e in events])
    if as_json:
        emit_json([e.as_json() for e in events])
        return
    if not events:
        click.echo("No open escalations." if not show_all else "No escalations.")
        return
    for event in events:
        _echo(event)


@escalation.command("ack")
@click.argument("escalation_id", type=int)
@_acting("Print the event as JSON.", note_help='What you did, e.g. "phoned, no answer".')
def escalation_ack(ctx: click.Context, escalation_id: int, by: str, note: str, as_json: bool) -> None:
    """Take an alarm: the first acknowledgement wins and the others see who took it."""
    _in_my_school(ctx, escalation_id)
    event = _escalations(ctx).ack(escalation_id, by=by, note=note)
    _result(event, as_json, f"acknowledged escalation {escalation_id}")


@escalation.command("next")
@click.argument("escalation_id", type=int)
@_acting("Print the new event as JSON.")
def escalation_next(ctx: click.Context, escalation_id: int, by: str, as_json: bool) -> None:
    """Escalate now: fire the chain's next step without waiting for its time limit."""
    _in_my_school(ctx, escalation_id)
    event = _escalations(ctx).escalate_now(escalation_id, by=by)
    _result(event, as_json, f"escalated: step {event.step_index + 1} fired as escalation {event.id}")


@escalation.command("stand-down")
@click.argument("visit_id")
@_acting("Print the closed events as JSON.", note_help='How you know staff are safe, e.g. "spoke to Alex, on her way back".')
def escalation_stand_down(ctx: click.Context, visit_id: str, by: str, note: str, as_json: bool) -> None:
    """Staff are safe: close every open escalation of VISIT_ID."""
    for event in _escalations(ctx).list(open_only=False, visit_id=visit_id)[:1]:
        require_school(ctx, event.school_id, f"visit {visit_id}'s alarms")
    closed = _escalations(ctx).stand_down(visit_id, by=by, note=note)
    if as_json:
        emit_json([e.as_json() for e in closed])
        return
    click.echo(f"stood down visit {visit_id}: {len(closed)} escalation(s) closed")


def _result(event: EscalationView, as_json: bool, headline: str) -> None:
    if as_json:
        emit_json(event.as_json())
        return
    click.echo(headline)
    _echo(event)


def _echo(event: EscalationView) -> None:
    state = "open" if event.open else f"closed {wall(event.closed_at)}" if event.closed_at else "closed"
    taken = (f"acknowledged by {event.acknowledged_by_name} at {wall(event.acknowledged_at)}"
             if event.acknowledged_at else "not acknowledged")
    # The policy's step text, staff names and a typed note: each line one line, whatever they hold.
    click.echo(neutralise(f"#{event.id:<5} visit {event.visit_id}  {event.kind} step {event.step_index + 1}  "
                          f"fired {wall(event.fired_at or event.due_at)}  → {', '.join(event.who)}  [{state}; {taken}]"))
    click.echo(neutralise(f"       {event.message}"))
    if event.note:
        click.echo(neutralise(f"       note: {event.note}"))
