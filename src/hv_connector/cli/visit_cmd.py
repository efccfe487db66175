"""``hvc visit``: ask for a visit and take it through its life, acting as a named member of staff.

Every command takes ``--json`` for scripts. Exit codes: 0 done; 1 refused by the
policy or the visit's state (the message says why and what is allowed); 2 bad
input (the message names the field).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from hv_connector import humanize
from hv_connector.cli.acting import acting_option, require_school
from hv_connector.cli.common import Choice, cli, echo_findings, emit_json, json_option, log_access, parse_moment, runtime
from hv_connector.errors import InputError
from hv_connector.models import CheckIn, Visit
from hv_connector.store.access import Seen
from hv_connector.text import neutralise
from hv_connector.visits.files import read_document
from hv_connector.visits.input import parse_outcome
from hv_connector.visits.lifecycle import State, describe_allowed
from hv_connector.visits.printouts import Printout, Printouts
from hv_connector.visits.records import ActionResult, VisitEvent, VisitRecord, last_judged
from hv_connector.visits.service import VisitService

STATES = [s.value for s in State]
MAX_MINUTES = 24 * 60
"""No visit lasts a day (each school's ``max_visit_hours`` is at most 24): a larger --minutes is a typo."""
DECIDING = {"authorise", "ack", "override"}
"""The events whose output shows what was acknowledged or overridden; the later ones leave it out."""
CHECK_IN_KINDS = ["office-call", "staff-call", "arrived", "left-home", "home-safe", "interruption"]


def _service(ctx: click.Context) -> VisitService:
    return VisitService.from_runtime(runtime(ctx))


def _in_my_school(ctx: click.Context, _param: click.Parameter, visit_id: str) -> str:
    try:
        school = _service(ctx).get(visit_id).school
    except InputError:
        return visit_id  # no such visit: the command says so, after checking its own options
    require_school(ctx, school, f"visit {visit_id}")
    return visit_id


_visit_argument = click.argument("visit_id", callback=_in_my_school)
"""``VISIT_ID``: refused unless the visit is in a school of the person signed in (or they act for others)."""


def _as_option(func: Any) -> Any:
    return acting_option()(func)


def _json_option(func: Any) -> Any:
    return json_option("Print the result as JSON.")(func)


def _acting(func: Any) -> Any:
    """What every action takes: ``--as STAFF_ID``, ``--json`` and the click context."""
    return _as_option(_json_option(click.pass_context(func)))


def _read_document(path: Path | None, what: str) -> dict[str, Any]:
    return {} if path is None else read_document(path, what, source=f"--file {path}")


# --- printing ----------------------------------------------------------------------------------


def visit_json(record: VisitRecord) -> dict[str, Any]:
    """The visit for scripts: its state and lock version, and the visit with the code word masked."""
    return {"id": record.id, "school": record.school, "state": record.state.value, "version": record.version,
            "created_at": record.created_at.isoformat(), "updated_at": record.updated_at.isoformat(),
            "visit": record.visit.model_dump(mode="json")}


def _summary(visit: Visit) -> str:
    back = f"–{humanize.time_of_day(visit.expected_return)}" if visit.expected_return else ""
    return f"{visit.school}, {visit.pupil.name}, {humanize.moment(visit.planned_start)}{back}"


def _report(service: VisitService, result: ActionResult, as_json: bool, message: str) -> None:
    if as_json:
        emit_json({"event": result.event, "visit": visit_json(result.record),
                   "findings": [f.model_dump(mode="json") for f in result.findings]})
        return
    record = result.record
    click.echo(neutralise(f"{message} — visit {record.id} ({_summary(record.visit)}) is {record.state.value}."))
    decided = service.decisions(record.id)
    findings = result.findings
    if result.event not in DECIDING:  # a warning acknowledged (a block overridden) earlier is not news now
        settled = {d.rule_id for d in (*decided.acknowledgements, *decided.overrides)}
        findings = [f for f in findings if f.rule_id not in settled]
        if len(findings) < len(result.findings):
            click.echo(f"({_settled(len(result.findings) - len(findings))} acknowledged or overridden earlier: "
                       f"`hvc visit show {record.id}` lists them)")
    if findings or len(findings) == len(result.findings):
        echo_findings(findings, replace(decided, findings=findings), service.directory.names(record.school))
    click.echo(describe_allowed(record.state).capitalize())


def _settled(count: int) -> str:
    return f"{count} finding{'' if count == 1 else 's'}"


# --- reading ----------------------------------------------------------------------------------


@cli.group()
def visit() -> None:
    """Ask for a home visit and take it through its life: authorise, sign out, check in, return, report."""


@visit.command("list")
@click.option("--school", help="Only this school's visits.")
@click.option("--state", type=Choice(STATES), help="Only visits in this state.")
@acting_option(required=False, help="Who is looking: only their school's visits (default: you).")
@_json_option
@click.pass_context
def visit_list(ctx: click.Context, school: str | None, state: str | None, by: str | None, as_json: bool) -> None:
    """List visits, soonest first (never with a code word)."""
    if school is not None:
        require_school(ctx, school, f"school {school}'s visits")
    records = _service(ctx).list(school=school, state=state, by=by)
    log_access(ctx, "hvc visit list", [Seen("visit", r.id, r.school) for r in records], by)
    if as_json:
        emit_json([visit_json(r) for r in records])
        return
    if not records:
        click.echo("No visits.")
        return
    for r in records:
        staff = ", ".join(m.name for m in r.visit.staff) or "no staff named"
        # One line per visit, whatever a name holds: a newline in it shows as \x0a.
        click.echo(neutralise(f"{r.id}  {r.state.value:<10}  {humanize.moment(r.visit.planned_start)}  {r.school:<14}  "
                              f"{r.visit.pupil.name} — {r.visit.reason} — {staff}"))


@visit.command("show")
@_visit_argument
@acting_option(required=False, help="Who is looking (default: you; needed with --reveal-code-word).")
@click.option("--reveal-code-word", is_flag=True,
              help="Show the code word (the office and the visit's authorisers only; the showing is audited).")
@_json_option
@click.pass_context
def visit_show(ctx: click.Context, visit_id: str, by: str | None, reveal_code_word: bool, as_json: bool) -> None:
    """Show a visit: its details, where it stands against the policy, and its history."""
    service = _service(ctx)
    record = service.get(visit_id)
    if reveal_code_word and by is None:
        raise InputError("--as: say who you are to see the code word (the office or an authoriser)")
    word = service.reveal_code_word(visit_id, by=by) if reveal_code_word and by else None
    log_access(ctx, "hvc visit show", [Seen("visit", record.id, record.school)], by)
    events = service.events(visit_id)
    # Before staff leave, what still stands matters; after, what the policy said at the last step.
    before_leaving = record.state in (State.REQUESTED, State.AUTHORISED)
    standing = service.standing(visit_id) if before_leaving else replace(service.decisions(visit_id),
                                                                          findings=last_judged(events))
    roles = service.authoriser_roles(record.visit)
    if as_json:
        emit_json({"visit": visit_json(record), "authoriser_roles": roles,
                   "standing": {"findings": [f.model_dump(mode="json") for f in standing.findings],
                                "blocks": [f.rule_id for f in standing.blocks()],
                                "unacknowledged": [f.rule_id for f in standing.unacknowledged()],
                                "overrides": [o.__dict__ for o in standing.overrides],
                                "acknowledgements": [a.__dict__ for a in standing.acknowledgements]},
                   "events": [_event_json(e) for e in events],
                   **({"code_word": word} if reveal_code_word else {})})
        return
    _echo_visit(record, roles, service.directory.names(record.school))
    if reveal_code_word:
        click.echo(neutralise(f"Code word:     {word or '(none agreed)'}"))
    click.echo("\nWhere it stands before staff leave:" if before_leaving else f"\nAt the last step ({events[-1].event}):")
    echo_findings(standing.findings, standing, service.directory.names(record.school))
    click.echo("\nHistory:")
    for event in events:
        moved = f" → {event.to_state.value}" if event.to_state and event.to_state != event.from_state else ""
        note = f" — {event.note}" if event.note else ""
        click.echo(neutralise(f"  {humanize.moment(event.at)}  {event.event}{moved}  "
                              f"by {service.directory.name(record.school, event.actor)}{note}"))
    click.echo(describe_allowed(record.state).capitalize())


def _echo_visit(record: VisitRecord, roles: list[str], names: dict[str, str]) -> None:
    v = record.visit
    risk = v.risk_assessment
    lines = [
        f"Visit {record.id} — {record.state.value}",
        f"School:        {v.school} (authorised by: {' or '.join(roles)})",
        f"Pupil:         {v.pupil.name} (MIS {v.pupil.mis_id or '—'}, UPN {v.pupil.upn or '—'})",
        f"Reason:        {v.reason}{' — ' + v.purpose if v.purpose else ''}",
        f"Address:       {v.address or '—'}",
        f"Planned:       {humanize.moment(v.planned_start)} to {humanize.moment(v.expected_return)}",
        f"Staff:         {', '.join(f'{m.name} ({m.id})' for m in v.staff) or '—'}",
        f"Requested by:  {v.requested_by.name if v.requested_by else '—'}",
        f"Authorised by: {v.authorised_by.name + ' at ' + humanize.moment(v.authorised_at) if v.authorised_by else '—'}",
        f"Code word:     {'agreed (hidden)' if risk and risk.code_word_agreed else 'none agreed'}",
    ]
    if v.signed_out_at:
        lines.append(f"Signed out:    {humanize.moment(v.signed_out_at)}")
    for check_in in v.check_ins:
        flags = "".join((" CODE WORD" if check_in.code_word_used else "", " concerns" if check_in.concerns else "",
                         *_at_the_door(check_in)))
        lines.append(f"Check-in:      {humanize.moment(check_in.at)} {check_in.kind} by {humanize.person(check_in.by, names)}"
                     f"{flags} {check_in.note}".rstrip())
    if v.returned_at:
        lines.append(f"Returned:      {humanize.moment(v.returned_at)}")
    if v.outcome:
        lines.append(f"Outcome:       child seen: {humanize.yes_no(v.outcome.child_seen)}; "
                     f"{v.outcome.cancellation_reason or v.outcome.discussion or 'no notes'}")
    for line in lines:
        click.echo(neutralise(line))


def _at_the_door(check_in: CheckIn) -> tuple[str, ...]:
    """What staff reported from the home at a check-in, in a few words each."""
    said = {"parents_present": {True: "parents in", False: "parents not there"},
            "animals_secured": {True: "animals shut away", False: "ANIMAL LOOSE"},
            "entered_home": {True: "went in", False: "did not go in"}}
    words = [f" {said[name][value]}" for name in said if (value := getattr(check_in, name)) is not None]
    if check_in.waited_minutes is not None:
        words.append(f" waited {check_in.waited_minutes} min")
    return (*words, " EMERGENCY" if check_in.emergency else "")


def _event_json(event: VisitEvent) -> dict[str, Any]:
    return {"at": event.at.isoformat(), "actor": event.actor, "event": event.event,
            "from_state": event.from_state.value if event.from_state else None,
            "to_state": event.to_state.value if event.to_state else None,
            "stage": event.stage.value if event.stage else None,
            "findings": [f.model_dump(mode="json") for f in event.findings], "note": event.note}


# --- asking for a visit ---------------------------------------------------------------------------


@visit.command("request")
@click.option("--file", "file", type=click.Path(path_type=Path), help="A request as JSON (a visit; see the README).")
@click.option("--school", help="The school id.")
@click.option("--pupil", help="The pupil's MIS id.")
@click.option("--new-family", metavar="PUPIL_NAME", help="A family not yet in the MIS: the pupil's name.")
@click.option("--reason", help="A reason code from the school's list (`hvc policy show SCHOOL`).")
@click.option("--purpose", help="What the visit is for, in a sentence.")
@click.option("--start", help="Planned start (ISO; a time without a zone is London time).")
@click.option("--return", "expected_return", help="Expected return (ISO).")
@click.option("--minutes", type=click.IntRange(min=1, max=MAX_MINUTES),
              help="Expected return this many minutes after the start.")
@click.option("--staff", multiple=True, metavar="STAFF_ID", help="A visiting member of staff (repeat for each).")
@click.option("--address", help="Where the visit is (default: the pupil's address in the MIS).")
@click.option("--record-of-past-visit", is_flag=True, default=None, help="Record a visit already made.")
@_acting
def visit_request(ctx: click.Context, file: Path | None, school: str | None, pupil: str | None,
                  new_family: str | None, reason: str | None, purpose: str | None, start: str | None,
                  expected_return: str | None, minutes: int | None, staff: tuple[str, ...], address: str | None,
                  record_of_past_visit: bool | None, by: str, as_json: bool) -> None:
    """Ask for a visit, from --file and/or options (options win); prints its findings up to sign-out."""
    document = _read_document(file, "a visit request")
    planned = parse_moment(start, "--start")
    options: dict[str, Any] = {
        "school": school, "reason": reason, "purpose": purpose, "address": address,
        "planned_start": planned.isoformat() if planned else None,
        "record_of_past_visit": record_of_past_visit,
    }
    back = parse_moment(expected_return, "--return")
    if minutes is not None:
        begins = planned or parse_moment(document.get("planned_start"), "planned_start")
        if begins is None:
            raise InputError("--minutes: give --start too (or planned_start in the file)")
        back = begins + timedelta(minutes=minutes)
    options["expected_return"] = back.isoformat() if back else None
    if pupil is not None:
        options["pupil"] = pupil
    if new_family is not None:
        options.update(pupil={"name": new_family, **({"mis_id": pupil} if pupil else {})}, new_family=True)
    if staff:
        options["staff"] = list(staff)
    document.update({k: v for k, v in options.items() if v is not None})
    service = _service(ctx)
    _report(service, service.request(document, by=by), as_json, "Requested")


# --- deciding -----------------------------------------------------------------------------------


@visit.command("authorise")
@_visit_argument
@click.option("--ack", "acks", multiple=True, metavar="RULE_ID", help="Acknowledge this warning as you authorise.")
@click.option("--note", default="", help="A note for the record.")
@_acting
def visit_authorise(ctx: click.Context, visit_id: str, acks: tuple[str, ...], note: str, by: str,
                    as_json: bool) -> None:
    """Authorise a visit (the policy's authorisers only; every warning acknowledged, every block overridden)."""
    service = _service(ctx)
    _report(service, service.authorise(visit_id, by=by, ack=acks, note=note), as_json, "Authorised")


@visit.command("decline")
@_visit_argument
@click.option("--reason", required=True, help="Why the visit is declined.")
@_acting
def visit_decline(ctx: click.Context, visit_id: str, reason: str, by: str, as_json: bool) -> None:
    """Decline a visit, with a reason (the policy's authorisers only)."""
    service = _service(ctx)
    _report(service, service.decline(visit_id, by=by, reason=reason), as_json, "Declined")


@visit.command("override")
@_visit_argument
@click.argument("rule_id")
@click.option("--reason", required=True, help="Why this block may be overridden (kept in the audit log).")
@_acting
def visit_override(ctx: click.Context, visit_id: str, rule_id: str, reason: str, by: str, as_json: bool) -> None:
    """Override one standing block, with a written reason (the policy's authorisers only)."""
    service = _service(ctx)
    _report(service, service.override(visit_id, rule_id, by=by, reason=reason), as_json, f"Overrode {rule_id}")


@visit.command("ack")
@_visit_argument
@click.argument("rule_ids", nargs=-1, required=True)
@click.option("--note", default="", help="A note for the record.")
@_acting
def visit_ack(ctx: click.Context, visit_id: str, rule_ids: tuple[str, ...], note: str, by: str,
              as_json: bool) -> None:
    """Acknowledge standing warnings (the policy's authorisers only)."""
    service = _service(ctx)
    _report(service, service.ack(visit_id, rule_ids, by=by, note=note), as_json, f"Acknowledged {', '.join(rule_ids)}")


# --- out and back ----------------------------------------------------------------------------------


@visit.command("sign-out")
@_visit_argument
@_acting
def visit_sign_out(ctx: click.Context, visit_id: str, by: str, as_json: bool) -> None:
    """Sign the visiting staff out (refused while a block stands or a warning is unacknowledged)."""
    service = _service(ctx)
    _report(service, service.sign_out(visit_id, by=by), as_json, "Signed out")


@visit.command("check-in")
@_visit_argument
@click.option("--kind", type=Choice(CHECK_IN_KINDS), default="staff-call", show_default=True,
              help="What kind of contact it was.")
@click.option("--code-word-used", is_flag=True, help="Staff used the code word: they need help now.")
@click.option("--concerns", is_flag=True, help="Staff raised a concern on the call.")
@click.option("--note", default="", help="What was said (never the code word).")
@click.option("--parents-present/--parents-absent", "parents_present", default=None,
              help="Whether a parent or carer is there with the staff.")
@click.option("--waited", "waited_minutes", type=click.IntRange(min=0, max=24 * 60), metavar="MINUTES",
              help="Minutes the staff have waited at the door so far.")
@click.option("--animals-secured/--animals-not-secured", "animals_secured", default=None,
              help="A potentially dangerous animal is there: shut away, or still loose.")
@click.option("--entered-home", is_flag=True, default=None, help="The staff have gone into the home.")
@click.option("--emergency", is_flag=True, default=None,
              help="An emergency at the home (e.g. a child alone and at risk), e.g. the reason for going in.")
@_acting
def visit_check_in(ctx: click.Context, visit_id: str, kind: str, code_word_used: bool, concerns: bool, note: str,
                   parents_present: bool | None, waited_minutes: int | None, animals_secured: bool | None,
                   entered_home: bool | None, emergency: bool | None, by: str, as_json: bool) -> None:
    """Record a contact with staff who are out, and what they report from the home.

    The school's "during" rules read what they report (parents absent, minutes waited, an animal loose,
    going in, an emergency), so the findings show while the staff are still there.
    """
    service = _service(ctx)
    door = {"parents_present": parents_present, "waited_minutes": waited_minutes, "animals_secured": animals_secured,
            "entered_home": entered_home, "emergency": emergency}
    result = service.check_in(visit_id, by=by, kind=kind, code_word_used=code_word_used, concerns=concerns, note=note,
                              door=door)
    _report(service, result, as_json, "Checked in")


@visit.command("extend")
@_visit_argument
@click.option("--until", help="The new expected return (ISO).")
@click.option("--minutes", type=click.IntRange(min=1, max=MAX_MINUTES),
              help="Move the expected return this many minutes later.")
@click.option("--note", default="", help="Why more time is needed.")
@_acting
def visit_extend(ctx: click.Context, visit_id: str, until: str | None, minutes: int | None, note: str, by: str,
                 as_json: bool) -> None:
    """Ask for more time: move the expected return later (audited)."""
    service = _service(ctx)
    new_return = parse_moment(until, "--until")
    if (new_return is None) == (minutes is None):
        raise InputError("--until / --minutes: give exactly one")
    if minutes is not None:
        current = service.get(visit_id).visit.expected_return or service.clock.now()
        new_return = max(current, service.clock.now()) + timedelta(minutes=minutes)
    assert new_return is not None  # exactly one of --until / --minutes was given, checked above
    _report(service, service.extend(visit_id, new_return, by=by, note=note), as_json, "Extended")


@visit.command("return")
@_visit_argument
@click.option("--at", "at", help="When they got back (ISO; default now).")
@_acting
def visit_return(ctx: click.Context, visit_id: str, at: str | None, by: str, as_json: bool) -> None:
    """Staff are back (or safe home): the watch stands down."""
    service = _service(ctx)
    _report(service, service.return_(visit_id, by=by, at=parse_moment(at, "--at")), as_json, "Returned")


@visit.command("report")
@_visit_argument
@click.option("--file", "file", type=click.Path(path_type=Path), help="The outcome as JSON (see the README).")
@click.option("--arrived", help="When you arrived (ISO).")
@click.option("--departed", help="When you left (ISO).")
@click.option("--child-seen/--child-not-seen", default=None, help="Whether you saw the child.")
@click.option("--spoken-to/--not-spoken-to", "spoken_to", default=None, help="Whether you spoke to the child.")
@click.option("--child-words", help="The child's own words, where given.")
@click.option("--discussion", help="What was discussed.")
@click.option("--agreed", multiple=True, help="Something agreed (repeat).")
@click.option("--action", "actions", multiple=True, help="An action point (repeat).")
@click.option("--concerns", help="Any concern, in words (goes to the DSL).")
@click.option("--cp-concern", is_flag=True, default=None, help="A child-protection concern arose.")
@_acting
def visit_report(ctx: click.Context, visit_id: str, file: Path | None, arrived: str | None, departed: str | None,
                 child_seen: bool | None, spoken_to: bool | None, child_words: str | None, discussion: str | None,
                 agreed: tuple[str, ...], actions: tuple[str, ...], concerns: str | None, cp_concern: bool | None,
                 by: str, as_json: bool) -> None:
    """Record what happened; the CPOMS record goes to the outbox at once."""
    document = _read_document(file, "a visit outcome")
    arrived_at, departed_at = parse_moment(arrived, "--arrived"), parse_moment(departed, "--departed")
    options: dict[str, Any] = {
        "arrived_at": arrived_at.isoformat() if arrived_at else None,
        "departed_at": departed_at.isoformat() if departed_at else None,
        "child_seen": child_seen, "child_spoken_to": spoken_to, "child_words": child_words,
        "discussion": discussion, "agreements": list(agreed) or None, "action_points": list(actions) or None,
        "concerns": concerns, "cp_concern": cp_concern,
    }
    document.update({k: v for k, v in options.items() if v is not None})
    service = _service(ctx)
    _report(service, service.report(visit_id, parse_outcome(document), by=by), as_json, "Reported")


# --- endings ---------------------------------------------------------------------------------------


@visit.command("close")
@_visit_argument
@click.option("--note", default="", help="A note for the record (e.g. follow-ups done).")
@_acting
def visit_close(ctx: click.Context, visit_id: str, note: str, by: str, as_json: bool) -> None:
    """Close a reported visit (the policy's authorisers only)."""
    service = _service(ctx)
    _report(service, service.close(visit_id, by=by, note=note), as_json, "Closed")


def _ending(name: str, verb: str, summary: str) -> None:
    @visit.command(name, help=summary)
    @_visit_argument
    @click.option("--reason", required=True, help="Why (kept in the record and sent to CPOMS).")
    @click.option("--for-safety", is_flag=True, help="It was for a safety reason (recorded on the outcome for the policy's checks).")
    @_acting
    def command(ctx: click.Context, visit_id: str, reason: str, for_safety: bool, by: str, as_json: bool) -> None:
        service = _service(ctx)
        act = getattr(service, name)
        _report(service, act(visit_id, by=by, reason=reason, for_safety=for_safety), as_json, verb)


_ending("cancel", "Cancelled", "Cancel a visit, with a reason; its CPOMS record goes to the outbox.")
_ending("abort", "Aborted", "Stop a visit part way, with a reason; its CPOMS record goes to the outbox.")


# --- PDFs ------------------------------------------------------------------------------------------------


def _printing(name: str, summary: str, what: str, keep: str) -> None:
    """``hvc visit NAME ID [--out FILE] --as STAFF_ID``: print ``what`` with :class:`Printouts`' method ``name``."""
    @visit.command(name, help=summary)
    @_visit_argument
    @click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
                  help="Write the PDF here (default: printouts/ in hv-connector's data folder, readable by you alone).")
    @_acting
    def command(ctx: click.Context, visit_id: str, out: Path | None, by: str, as_json: bool) -> None:
        printout: Printout = getattr(Printouts(_service(ctx)), name)(visit_id, by=by, out=out)
        if as_json:
            emit_json({"visit": printout.visit_id, "file": str(printout.path), "pages": printout.pages})
            return
        click.echo(neutralise(f"Wrote {what} of visit {printout.visit_id} ({printout.size}) to {printout.path}"))
        click.echo(f"It holds personal data: only you can read the file; {keep}.")


_printing("pack", "Print the briefing pack staff take on an authorised visit (PDF, audited; never the code word).",
          "the briefing pack", "print it, and destroy the paper after the visit")
_printing("export", "Export a finished visit's record (as sent to the safeguarding record) to PDF (audited).",
          "the record", "keep it where only the safeguarding team can read it")
