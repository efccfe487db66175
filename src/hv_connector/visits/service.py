"""Visits as records in the store: each action one transaction, checked, audited and locked.

Every action (:meth:`VisitService.authorise`, :meth:`~VisitService.sign_out` …)
runs in ONE transaction that

1. loads the visit and asks :mod:`hv_connector.visits.lifecycle` whether the action is
   legal in its state (refused: the message says the state, who put it there,
   and what is allowed);
2. checks the person acting may do it (the school's policy names the authorisers);
3. builds the visit as it stands after the action and computes the policy's
   findings up to the action's stage; the gates (authorise, sign-out) refuse
   while a block stands without an override or a warning lacks an acknowledgement;
4. writes the visit with optimistic locking (``UPDATE … WHERE version = :seen``),
   the ``visit_events`` row with the findings, and the audit entry; a visit that
   finishes (reported, cancelled, aborted) writes its CPOMS record to the outbox.

When two people act at once, one update wins; the other's transaction rolls
back, the action is tried again on the fresh row, and the state check tells
them who got there first ("already authorised by Jo Smith at 10:02").

The code word lives in ``visits.code_word`` only, encrypted (:mod:`.codewords`): never in ``visits.data``,
the audit detail, an event note or a printed visit. :meth:`VisitService.reveal_code_word`
shows it to the office or an authoriser, and audits that it did.
"""

from __future__ import annotations

import builtins
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import DBAPIError

from hv_connector.clock import Clock, school_today
from hv_connector.config.loading import config_source
from hv_connector.errors import InputError, PolicyNotFound, PolicyUnavailable, RefusedError, excerpt
from hv_connector.humanize import WATCH, moment
from hv_connector.models import (
    Finding,
    PupilRef,
    Reason,
    ReportKind,
    Severity,
    StaffMember,
    Stage,
    Visit,
    VisitOutcome,
)
from hv_connector.outbox import queue as outbox
from hv_connector.plugins import Policies
from hv_connector.read.attendance import attendance_3m
from hv_connector.store import Store, audit
from hv_connector.store.bulk import insert_rows
from hv_connector.store.engine import is_retryable
from hv_connector.store.hashing import digest
from hv_connector.store.schema import (
    acknowledgements,
    overrides,
    pupils,
    visit_events,
    visits,
)
from hv_connector.visits import timetable
from hv_connector.visits.codewords import CodeWords
from hv_connector.visits.directory import OFFICE_ROLES, Directory
from hv_connector.visits.files import check_plain
from hv_connector.visits.input import (
    build_request,
    check_length,
    check_reason,
    check_times,
    new_family_pupil,
    parse_check_in,
    pupil_id,
    resolve_member,
)
from hv_connector.visits.lifecycle import FINISHING, STAGES, WATCHED, Action, State, next_state
from hv_connector.visits.records import (
    ActionResult,
    Decision,
    Standing,
    VisitEvent,
    VisitRecord,
    read_decisions,
    read_events,
    record_from_row,
)

if TYPE_CHECKING:
    from hv_connector.runtime import Runtime


GATED_BEFORE_LEAVING = (Action.AUTHORISE, Action.DECLINE, Action.OVERRIDE, Action.ACK, Action.SIGN_OUT)
"""Actions that look at every finding up to sign-out: everything that must be settled before staff leave."""

_MAX_ATTEMPTS = 3


# --- what the service needs to know about schools ------------------------------------------------


# --- what the service hands back ---------------------------------------------------------------


class _Conflict(Exception):
    """Someone else changed the visit between our read and our write: try again on the fresh row."""


Change = Callable[[Visit, datetime], Visit]
"""Builds the visit as it stands after an action."""
Gate = Callable[[Connection, VisitRecord, list[Finding]], None]
"""Reads only, and raises when the action may not go ahead (it runs before the visit row is locked)."""
Extra = Callable[[Connection, VisitRecord, datetime], None]
"""Writes what the action adds besides the visit and its event (after the visit row is locked)."""


def _unchanged(visit: Visit, now: datetime) -> Visit:
    return visit


def _with(visit: Visit, **changes: Any) -> Visit:
    """A copy of the frozen ``visit`` with ``changes``, validated again."""
    data = {name: getattr(visit, name) for name in Visit.model_fields}
    data.update(changes)
    return Visit.model_validate(data)


def _words(findings: Iterable[Finding]) -> str:
    return "; ".join(f"{f.rule_id} — {f.message} ({f.clause})" for f in findings)


def report_kind(visit: Visit, state: State, reasons: Iterable[Reason]) -> ReportKind:
    """The kind of CPOMS record a visit finishing in ``state`` writes (a concern on it adds its own record)."""
    if state in (State.CANCELLED, State.ABORTED):
        return "cancelled"
    tags = next((r.tags for r in reasons if r.code == visit.reason), ())
    return "attendance" if "attendance" in tags else "home-visit"


class VisitService:
    """The visit lifecycle over the store, for the CLI, the dashboard and the watch.

    :param store: where visits live.
    :param policies: the schools' policies (findings, reasons, authoriser roles).
    :param directory: the configured schools' staff and policy options.
    :param clock: what time it is (a :class:`~hv_connector.clock.FixedClock` in tests).
    """

    def __init__(self, *, store: Store, policies: Policies, directory: Directory, clock: Clock,
                 code_words: CodeWords | None = None) -> None:
        self.store = store
        self.policies = policies
        self.directory = directory
        self.clock = clock
        self.code_words = code_words or CodeWords.beside(config_source().path)

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> VisitService:
        """The service on a run's store, policies, configured staff and clock."""
        return cls(store=runtime.store, policies=runtime.policies, directory=Directory.from_settings(runtime.settings),
                   clock=runtime.clock, code_words=CodeWords.beside(config_source(runtime.config_path).path))

    # --- reading ---------------------------------------------------------------------------

    def get(self, visit_id: str) -> VisitRecord:
        """The visit with ``visit_id``; :class:`InputError` when there is none."""
        with self.store.connect() as conn:
            return self._load(conn, visit_id)

    def list(self, *, school: str | None = None, state: State | str | None = None,
             limit: int | None = None, by: str | None = None) -> list[VisitRecord]:
        """Visits, soonest planned start first, optionally of one school and in one state.

        :param by: a staff id: only the visits of the school(s) whose directory holds them.
        """
        query = select(visits).order_by(visits.c.planned_start, visits.c.id)
        if school is not None:
            query = query.where(visits.c.school_id == self._known_school(school))
        if by is not None:
            query = query.where(visits.c.school_id.in_(self.directory.schools_of(by)))
        if state is not None:
            query = query.where(visits.c.state == State(state).value)
        if limit is not None:
            query = query.limit(limit)
        with self.store.connect() as conn:
            return [record_from_row(row) for row in conn.execute(query).mappings()]

    def events(self, visit_id: str) -> builtins.list[VisitEvent]:
        """The visit's history, oldest first."""
        with self.store.connect() as conn:
            self._load(conn, visit_id)
            return read_events(conn, visit_id)

    def standing(self, visit_id: str) -> Standing:
        """The visit's findings up to sign-out now, with its overrides and acknowledgements."""
        with self.store.connect() as conn:
            record = self._load(conn, visit_id)
            now = self.clock.now()
            findings = self._judge(record.visit, None, now, Stage.SIGN_OUT)
            return Standing(findings, read_decisions(conn, overrides, record.id, "reason"),
                            read_decisions(conn, acknowledgements, record.id, "note"))

    def decisions(self, visit_id: str) -> Standing:
        """The visit's overrides and acknowledgements, with ``findings`` left empty (cheap: no policy call)."""
        with self.store.connect() as conn:
            return Standing([], read_decisions(conn, overrides, visit_id, "reason"),
                            read_decisions(conn, acknowledgements, visit_id, "note"))

    def authoriser_roles(self, visit: Visit) -> builtins.list[str]:
        """The roles the school's policy lets authorise ``visit`` (and override its blocks)."""
        return list(self.policies.ask(visit.school, "authoriser_roles", visit=visit) or [])

    def refuse_code_word(self, conn: Connection, visit_id: str, texts: Mapping[str, str]) -> None:
        """Refuse ``texts`` (field name → text) that spell out the code word of ``visit_id``, as every note is refused.

        For notes written outside the lifecycle (an escalation's acknowledgement or stand-down): the
        word is read from ``visits.code_word`` on ``conn`` and never leaves this call.
        """
        word = conn.execute(select(visits.c.code_word).where(visits.c.id == visit_id)).scalar_one_or_none()
        _refuse_code_word(self.code_words.open(word), texts)

    def reveal_code_word(self, visit_id: str, *, by: str) -> str | None:
        """The visit's code word, for the office or an authoriser only; the showing is audited (the word is not)."""
        with self.store.begin() as conn:
            record = self._load(conn, visit_id)
            member = self._actor(record, by)
            if not (member.has_any(OFFICE_ROLES) or member.has_any(self.authoriser_roles(record.visit))):
                raise RefusedError(
                    f"{member.name} ({member.id}) may not see the code word of visit {visit_id}: "
                    "only the office and the visit's authorisers may"
                )
            word = self.code_words.open(conn.execute(select(visits.c.code_word).where(visits.c.id == visit_id)).scalar_one())
            audit.append(conn, actor=member.id, action="visit.code-word-shown", school_id=record.school,
                         visit_id=visit_id, state=record.state.value, detail={"shown_to": member.name},
                         at=self.clock.now())
            return word

    # --- the actions -----------------------------------------------------------------------

    def request(self, document: Mapping[str, Any], *, by: str) -> ActionResult:
        """Ask for a visit; ``document`` is a request (see :mod:`hv_connector.visits.input`).

        :class:`InputError` names the field when the school, pupil, reason, times or a
        staff id is wrong; nothing is written then.
        """
        if not isinstance(document, Mapping):
            raise InputError("a request must be one JSON object (a visit)")
        check_plain(document, "the request")
        school = self._known_school(document.get("school"))
        requester = self._member(school, by, "--as")
        now = self.clock.now()
        check_reason(document.get("reason"), school, self.policies.reasons(school))
        check_times(document, now, self.directory.longest_visit(school))
        visit_id = f"v-{secrets.token_hex(5)}"
        with self.store.begin() as conn:
            pupil, address = self._pupil(conn, school, document)
            visit = build_request(document, pupil=pupil, address=address, requested_by=requester,
                                  find=lambda staff_id: self.directory.member(school, staff_id), visit_id=visit_id)
            findings = self._judge(visit, requester, now, Stage.SIGN_OUT)
            conn.execute(insert(visits).values(
                id=visit_id, school_id=school, state=State.REQUESTED.value, version=1, created_at=now,
                updated_at=now, code_word=self.code_words.seal(_code_word(visit)), **_columns(visit),
            ))
            record = VisitRecord(visit_id, school, State.REQUESTED, 1, visit, now, now)
            self._record_event(conn, record, "request", None, Stage.REQUEST, findings, requester.id, now, None,
                               {"pupil": pupil.mis_id, "reason": visit.reason, "staff": [m.id for m in visit.staff],
                                "planned_start": visit.planned_start, "expected_return": visit.expected_return})
        return ActionResult(record, findings, "request")

    def authorise(self, visit_id: str, *, by: str, ack: Sequence[str] = (), note: str = "") -> ActionResult:
        """Authorise the visit, acknowledging the warnings in ``ack`` first (in the same transaction).

        Refused unless ``by`` holds a role the policy names, every block up to
        authorisation is overridden, and every warning up to sign-out is acknowledged.
        """

        def change(visit: Visit, now: datetime) -> Visit:
            return _with(visit, authorised_by=self.directory.member(visit.school, by), authorised_at=now)

        def gate(conn: Connection, record: VisitRecord, findings: list[Finding]) -> None:
            _check_warnings(record, findings, ack)
            self._refuse_unsettled(conn, record, findings, Action.AUTHORISE, upto=Stage.AUTHORISE, acked=ack)

        def extra(conn: Connection, record: VisitRecord, now: datetime) -> None:
            self._acknowledge(conn, record, ack, by, note, now)

        return self._act(visit_id, Action.AUTHORISE, by, change=change, gate=gate, extra=extra, note=note or None,
                         authoriser=True, detail={"acknowledged": list(ack)})

    def decline(self, visit_id: str, *, by: str, reason: str) -> ActionResult:
        """Decline the visit, with a reason (authorisers only)."""
        reason = _required(reason, "--reason", "say why the visit is declined")
        return self._act(visit_id, Action.DECLINE, by, authoriser=True, note=reason, detail={"reason": reason})

    def override(self, visit_id: str, rule_id: str, *, by: str, reason: str) -> ActionResult:
        """Override one standing block, with a written reason (authorisers only)."""
        reason = _required(reason, "--reason", f"write why {rule_id} may be overridden")

        def gate(conn: Connection, record: VisitRecord, findings: list[Finding]) -> None:
            standing = Standing(findings, read_decisions(conn, overrides, record.id, "reason"), [])
            blocks = {f.rule_id for f in standing.blocks()}
            if rule_id not in blocks:
                raise InputError(
                    f"rule: {rule_id} is not a standing block on visit {visit_id}; "
                    f"standing blocks: {', '.join(sorted(blocks)) or 'none'}"
                )

        def extra(conn: Connection, record: VisitRecord, now: datetime) -> None:
            conn.execute(insert(overrides).values(visit_id=visit_id, rule_id=rule_id, by=by, at=now, reason=reason))

        return self._act(visit_id, Action.OVERRIDE, by, authoriser=True, gate=gate, extra=extra, note=reason,
                         detail={"rule_id": rule_id, "reason": reason})

    def ack(self, visit_id: str, rule_ids: Sequence[str], *, by: str, note: str = "") -> ActionResult:
        """Acknowledge standing warnings (authorisers only)."""
        if not rule_ids:
            raise InputError("rule: name at least one warning to acknowledge")

        def gate(conn: Connection, record: VisitRecord, findings: list[Finding]) -> None:
            _check_warnings(record, findings, rule_ids)

        def extra(conn: Connection, record: VisitRecord, now: datetime) -> None:
            self._acknowledge(conn, record, rule_ids, by, note, now)

        return self._act(visit_id, Action.ACK, by, authoriser=True, gate=gate, extra=extra, note=note or None,
                         detail={"rule_ids": list(rule_ids)})

    def sign_out(self, visit_id: str, *, by: str) -> ActionResult:
        """Sign the visiting staff out: refused while a block stands without an override or a warning unacknowledged."""

        def gate(conn: Connection, record: VisitRecord, findings: list[Finding]) -> None:
            self._refuse_unsettled(conn, record, findings, Action.SIGN_OUT, upto=Stage.SIGN_OUT)

        return self._act(visit_id, Action.SIGN_OUT, by, keeper=True, gate=gate,
                         change=lambda visit, now: _with(visit, signed_out_at=now))

    def check_in(self, visit_id: str, *, by: str, kind: str = "staff-call", code_word_used: bool = False,
                 concerns: bool = False, note: str = "", door: Mapping[str, Any] | None = None) -> ActionResult:
        """Record a contact with staff who are out (anyone in the school's directory may take one).

        ``door`` is what staff report from the home, as :class:`~hv_connector.models.CheckIn` fields
        (``parents_present``, ``waited_minutes``, ``animals_secured``, ``entered_home``, ``emergency``):
        the policy's "during" rules read it, so their findings come while staff are still out.
        """
        said = {name: value for name, value in (door or {}).items() if value is not None}

        def change(visit: Visit, now: datetime) -> Visit:
            check_in = parse_check_in({**said, "at": now, "kind": kind, "by": by, "code_word_used": code_word_used,
                                       "concerns": concerns, "note": note})
            return _with(visit, check_ins=(*visit.check_ins, check_in))

        return self._act(visit_id, Action.CHECK_IN, by, change=change, note=note or None,
                         detail={"kind": kind, "code_word_used": code_word_used, "concerns": concerns, **said})

    def extend(self, visit_id: str, new_return: datetime, *, by: str, note: str = "") -> ActionResult:
        """Move the expected return later (more time asked for); an overdue visit is out again."""

        def change(visit: Visit, now: datetime) -> Visit:
            if new_return.tzinfo is None:
                raise InputError("--until: give a time with a timezone")
            if new_return <= now or (visit.expected_return and new_return <= visit.expected_return):
                raise InputError(f"--until: {moment(new_return)} is not later than now and the current expected return")
            # Measured from when staff actually left, so a late sign-out does not eat into the time allowed.
            check_length(visit.signed_out_at or visit.planned_start, new_return,
                         self.directory.longest_visit(visit.school), "--until")
            return _with(visit, expected_return=new_return)

        return self._act(visit_id, Action.EXTEND, by, keeper=True, change=change, note=note or None,
                         detail={"expected_return": new_return})

    def mark_overdue(self, visit_id: str, *, conn: Connection | None = None) -> ActionResult:
        """The watch: the visit is past its expected return (and the plan's grace).

        :param conn: act in this transaction (the watch moves a tick's visits in one), not one of its own.
        """
        return self._act(visit_id, Action.MARK_OVERDUE, WATCH, conn=conn)

    def mark_overdue_many(self, conn: Connection, moves: Sequence[tuple[str, str]]) -> builtins.list[str]:
        """The watch: mark a tick's visits overdue at once, in its transaction ``conn``: a few statements for all.

        :param moves: (visit id, school) of each signed-out visit now overdue.
        :returns: the ids moved, in id order; a visit no longer signed out (returned, extended into
            overdue and back, cancelled…) is left alone, as :meth:`mark_overdue` refuses it.

        The documents are neither read nor written and the policy is not asked again: being overdue
        changes nothing the policy was asked about when staff went out, so the events store no findings
        (``NULL``: the visit's findings stay those of its last action).
        """
        if not moves:
            return []
        now = self.clock.now()
        schools = dict(moves)
        # `state || ''`: matched on the ids' primary key, checked row by row; with the bare column SQLite walks
        # the state index through every visit signed out, a cost that grows with the store, not the tick.
        wanted = (visits.c.id.in_(sorted(schools)), visits.c.state.concat("") == State.SIGNED_OUT.value)
        if conn.dialect.name == "postgresql":  # SQLite has one writer at a time, and no row locks
            # Lock the rows in id order first, so two watches moving the same visits queue, not deadlock.
            conn.execute(select(visits.c.id).where(*wanted).order_by(visits.c.id).with_for_update())
        done = sorted(conn.execute(update(visits).where(*wanted)
                                   .values(state=State.OVERDUE.value, version=visits.c.version + 1, updated_at=now)
                                   .returning(visits.c.id)).scalars())
        if not done:
            return []
        insert_rows(conn, visit_events, [
            {"visit_id": visit_id, "at": now, "actor": WATCH, "event": Action.MARK_OVERDUE.value,
             "from_state": State.SIGNED_OUT.value, "to_state": State.OVERDUE.value,
             "stage": STAGES[Action.MARK_OVERDUE].value} for visit_id in done])  # findings left NULL: not judged
        by_name = {school: self.directory.name(school, WATCH) for school in set(schools.values())}
        for visit_id in done:
            school = schools[visit_id]
            audit.append(conn, actor=WATCH, action=f"visit.{Action.MARK_OVERDUE.value}", school_id=school,
                         visit_id=visit_id, state=State.OVERDUE.value, at=now,
                         detail={"from": State.SIGNED_OUT.value, "findings": None, "by_name": by_name[school]})
        return done

    def mark_escalated(self, visit_id: str, *, note: str = "", conn: Connection | None = None) -> ActionResult:
        """The watch: the school's escalation chain has started for this visit (``conn``: as :meth:`mark_overdue`)."""

        def change(visit: Visit, now: datetime) -> Visit:
            return visit if visit.escalation_started_at else _with(visit, escalation_started_at=now)

        return self._act(visit_id, Action.MARK_ESCALATED, WATCH, change=change, note=note or None, conn=conn)

    def return_(self, visit_id: str, *, by: str, at: datetime | None = None) -> ActionResult:
        """Staff are back (or safe home): the watch stands down for this visit."""

        def change(visit: Visit, now: datetime) -> Visit:
            return _with(visit, returned_at=at or now)

        return self._act(visit_id, Action.RETURN, by, keeper=True, change=change)

    def report(self, visit_id: str, outcome: VisitOutcome, *, by: str) -> ActionResult:
        """Record what happened; the CPOMS record goes to the outbox in the same transaction."""
        return self._act(visit_id, Action.REPORT, by, keeper=True,
                         change=lambda visit, now: _with(visit, outcome=outcome),
                         detail={"child_seen": outcome.child_seen, "cp_concern": outcome.cp_concern})

    def close(self, visit_id: str, *, by: str, note: str = "") -> ActionResult:
        """Close a reported visit once its follow-ups are done (authorisers only)."""
        return self._act(visit_id, Action.CLOSE, by, authoriser=True, note=note or None)

    def cancel(self, visit_id: str, *, by: str, reason: str, for_safety: bool = False) -> ActionResult:
        """Cancel the visit, with a reason; its CPOMS record goes to the outbox."""
        return self._finish_early(visit_id, Action.CANCEL, by, reason, for_safety)

    def abort(self, visit_id: str, *, by: str, reason: str, for_safety: bool = False) -> ActionResult:
        """Stop the visit part way, with a reason; its CPOMS record goes to the outbox."""
        return self._finish_early(visit_id, Action.ABORT, by, reason, for_safety)

    # --- how an action runs ------------------------------------------------------------------

    def _finish_early(self, visit_id: str, action: Action, by: str, reason: str, for_safety: bool) -> ActionResult:
        reason = _required(reason, "--reason", f"say why the visit is {action.past}")

        def change(visit: Visit, now: datetime) -> Visit:
            base = visit.outcome or VisitOutcome()
            outcome = base.model_copy(update={"cancelled": True, "cancelled_for_safety": for_safety,
                                              "cancellation_reason": reason})
            return _with(visit, outcome=outcome)

        return self._act(visit_id, action, by, keeper=True, requester=True, change=change, note=reason,
                         detail={"reason": reason, "for_safety": for_safety})

    def _act(
        self,
        visit_id: str,
        action: Action,
        by: str,
        *,
        change: Change = _unchanged,
        gate: Gate | None = None,
        extra: Extra | None = None,
        note: str | None = None,
        detail: Mapping[str, Any] | None = None,
        authoriser: bool = False,
        keeper: bool = False,
        requester: bool = False,
        conn: Connection | None = None,
    ) -> ActionResult:
        if conn is not None:  # the caller's transaction: a visit changed under it is refused, not tried again
            try:
                return self._act_once(conn, visit_id, action, by, change, gate, extra, note, dict(detail or {}),
                                      authoriser=authoriser, keeper=keeper, requester=requester)
            except _Conflict:
                raise RefusedError(f"visit {visit_id} changed while it was being {action.past}: "
                                   "look at it again") from None
        for _ in range(_MAX_ATTEMPTS):
            try:
                with self.store.begin() as conn:
                    return self._act_once(conn, visit_id, action, by, change, gate, extra, note, dict(detail or {}),
                                          authoriser=authoriser, keeper=keeper, requester=requester)
            except _Conflict:
                continue
            except DBAPIError as exc:
                if not is_retryable(exc):
                    raise
        raise RefusedError(f"visit {visit_id} kept changing while you acted: look at it again (`hvc visit show {visit_id}`)")

    def _act_once(self, conn: Connection, visit_id: str, action: Action, by: str, change: Change,
                  gate: Gate | None, extra: Extra | None, note: str | None, detail: dict[str, Any], *,
                  authoriser: bool, keeper: bool, requester: bool) -> ActionResult:
        record = self._load(conn, visit_id)
        target = next_state(record.state, action, visit_id=visit_id, last=self._last_words(conn, record))
        member = None if by == WATCH else self._permit(record, by, action, authoriser=authoriser, keeper=keeper,
                                                            requester=requester)
        now = self.clock.now()
        visit = change(record.visit, now)
        texts = {"note": note or "", **(_outcome_texts(visit) if action is Action.REPORT else {})}
        _refuse_code_word(self.code_words.open(_code_word(visit)), texts)
        stage = STAGES[action]
        if action in GATED_BEFORE_LEAVING:
            findings = self._judge(visit, member, now, Stage.SIGN_OUT)
        else:
            findings = self._findings_upto(visit, record.school, now, stage, by)
        if gate is not None:
            gate(conn, record, findings)
        after = VisitRecord(record.id, record.school, target, record.version + 1, visit, record.created_at, now)
        # While the watch looks after the visit, what it reads is written with it (the policy asked afresh).
        watched = timetable.EMPTY
        if target in WATCHED:
            columns, answered = timetable.ask(self.policies, visit)
            watched = columns if answered else timetable.EMPTY
        changed = conn.execute(
            update(visits)
            .where(visits.c.id == visit_id, visits.c.version == record.version)
            .values(state=target.value, version=after.version, updated_at=now, code_word=self.code_words.seal(_code_word(visit)),
                    **watched, **_columns(visit))
        ).rowcount
        if changed != 1:
            raise _Conflict()
        if extra is not None:
            extra(conn, after, now)
        self._record_event(conn, after, action.value, record.state, stage, findings, by, now, note, detail)
        if target in FINISHING:
            kind = report_kind(visit, target, self.policies.reasons(record.school))
            outbox.enqueue_visit_report(conn, self.policies, visit, kind, now=now, actor=by,
                                        names=self.directory.names(visit.school))
        return ActionResult(after, findings, action.value)

    def _findings_upto(self, visit: Visit, school: str, now: datetime, stage: Stage, by: str) -> builtins.list[Finding]:
        """The findings recorded with an action; none when the watch moves a visit whose school's policy is unreadable.

        The watch must still mark staff overdue or escalated when their school's plugin is broken or missing; a
        person acting for that school is refused with the plugin's error.
        """
        try:
            return self.policies.all_findings(visit, now, self._options(school), upto=stage)
        except (PolicyUnavailable, PolicyNotFound):
            if by != WATCH:
                raise
            return []

    def _record_event(self, conn: Connection, record: VisitRecord, event: str, from_state: State | None,
                      stage: Stage, findings: builtins.list[Finding], actor: str, now: datetime, note: str | None,
                      detail: dict[str, Any]) -> None:
        conn.execute(insert(visit_events).values(
            visit_id=record.id, at=now, actor=actor, event=event, from_state=from_state.value if from_state else None,
            to_state=record.state.value, stage=stage.value, findings=[f.model_dump(mode="json") for f in findings],
            note=note,
        ))
        tally = {s.value: sum(1 for f in findings if f.severity is s) for s in Severity}
        audit.append(conn, actor=actor, action=f"visit.{event}", school_id=record.school, visit_id=record.id,
                     state=record.state.value, at=now,
                     detail={**detail, "from": from_state.value if from_state else None, "findings": tally,
                             "by_name": self.directory.name(record.school, actor)})

    # --- gates and permissions ----------------------------------------------------------------

    def _permit(self, record: VisitRecord, by: str, action: Action, *, authoriser: bool, keeper: bool,
                requester: bool) -> StaffMember:
        member = self._actor(record, by)
        roles = self.authoriser_roles(record.visit)
        if authoriser:
            if member.has_any(roles):
                return member
            raise RefusedError(
                f"{member.name} ({member.id}) may not {action.value} visit {record.id}: "
                f"{record.school}'s policy lets only {' or '.join(roles)} do that"
            )
        if not keeper:
            return member
        visiting = member.id in {s.id for s in record.visit.staff}
        asked = requester and record.visit.requested_by is not None and record.visit.requested_by.id == member.id
        if visiting or asked or member.has_any(OFFICE_ROLES) or member.has_any(roles):
            return member
        who = "the visiting staff, the person who asked for it, " if requester else "the visiting staff, "
        raise RefusedError(
            f"{member.name} ({member.id}) may not {action.value} visit {record.id}: "
            f"only {who}the office ({', '.join(sorted(OFFICE_ROLES))}) or an authoriser ({', '.join(roles)}) may"
        )

    def _refuse_unsettled(self, conn: Connection, record: VisitRecord, findings: builtins.list[Finding], action: Action,
                          *, upto: Stage, acked: Sequence[str] = ()) -> None:
        now = self.clock.now()
        given = [Decision(rule_id, "", now, "") for rule_id in acked]
        standing = Standing(findings, read_decisions(conn, overrides, record.id, "reason"),
                            read_decisions(conn, acknowledgements, record.id, "note") + given)
        blocks, warns = standing.blocks(upto), standing.unacknowledged()
        if not blocks and not warns:
            return
        problems = []
        if blocks:
            problems.append(f"{len(blocks)} block(s) stand: {_words(blocks)}. Fix the visit, or an authoriser "
                            f"overrides each with a reason: `hvc visit override {record.id} RULE_ID --reason …`.")
        if warns:
            how = ("Acknowledge each with --ack RULE_ID." if action is Action.AUTHORISE
                   else f"An authoriser acknowledges each: `hvc visit ack {record.id} RULE_ID`.")
            problems.append(f"{len(warns)} warning(s) need acknowledging: {_words(warns)}. {how}")
        raise RefusedError(f"Visit {record.id} cannot be {action.past}: " + " ".join(problems))

    def _acknowledge(self, conn: Connection, record: VisitRecord, rule_ids: Sequence[str], by: str, note: str,
                     now: datetime) -> None:
        for rule_id in dict.fromkeys(rule_ids):
            conn.execute(insert(acknowledgements).values(visit_id=record.id, rule_id=rule_id, by=by, at=now,
                                                         note=note or None))
            audit.append(conn, actor=by, action="visit.acknowledge", school_id=record.school, visit_id=record.id,
                         state=record.state.value, at=now, detail={"rule_id": rule_id, "note": note})

    # --- loading and lookups ----------------------------------------------------------------

    def _judge(self, visit: Visit, by: StaffMember | None, now: datetime, upto: Stage) -> builtins.list[Finding]:
        """Findings up to ``upto`` on the visit as its authoriser will judge it.

        A visit not yet authorised is judged as if ``by`` (when they may authorise)
        or the school's first authoriser had authorised it, so that "nobody has
        authorised this yet" is not reported as a block to override.
        """
        if visit.authorised_by is None:
            roles = self.authoriser_roles(visit)
            people = sorted(self.directory.staff.get(visit.school, {}).values(), key=lambda m: m.id)
            who = by if by is not None and by.has_any(roles) else next((m for m in people if m.has_any(roles)), None)
            if who is not None:
                visit = _with(visit, authorised_by=who, authorised_at=now)
        return self.policies.all_findings(visit, now, self._options(visit.school), upto=upto)

    def _load(self, conn: Connection, visit_id: str) -> VisitRecord:
        row = conn.execute(select(visits).where(visits.c.id == visit_id)).mappings().one_or_none()
        if row is None:
            raise InputError(f"visit: there is no visit {excerpt(visit_id)} (`hvc visit list` shows them)")
        return record_from_row(row)

    def _last_words(self, conn: Connection, record: VisitRecord) -> str:
        """"by Jo Smith at 10:02 on 23 Nov": who moved the visit into its state."""
        row = conn.execute(
            select(visit_events.c.actor, visit_events.c.at)
            .where(visit_events.c.visit_id == record.id, visit_events.c.to_state == record.state.value,
                   visit_events.c.from_state.is_distinct_from(record.state.value))
            .order_by(visit_events.c.id.desc()).limit(1)
        ).one_or_none()
        if row is None:
            return ""
        return f"by {self.directory.name(record.school, row.actor)} at {moment(row.at)}"

    def _known_school(self, school: Any) -> str:
        known = self.directory.schools()
        if not isinstance(school, str) or school not in known:
            given = f"{excerpt(school)} is not a configured school" if school else "name the school"
            raise InputError(f"school: {given}; configured schools: {', '.join(known) or 'none'} (`hvc config show`)")
        return school

    def _member(self, school: str, staff_id: str, option: str) -> StaffMember:
        return resolve_member(staff_id, option, lambda s: self.directory.member(school, s), school)

    def _actor(self, record: VisitRecord, by: str) -> StaffMember:
        return self._member(record.school, by, "--as")

    def _options(self, school: str) -> Mapping[str, Any]:
        return self.directory.options.get(school, {})

    def _pupil(self, conn: Connection, school: str, document: Mapping[str, Any]) -> tuple[PupilRef, str | None]:
        mis_id = pupil_id(document)
        row = None
        if mis_id is not None:
            # Our key, or the MIS feed's id now (a pupil re-linked after the school changed MIS).
            row = conn.execute(select(pupils).where(
                pupils.c.school_id == school, (pupils.c.mis_id == mis_id) | (pupils.c.source_id == mis_id)
            ).order_by(pupils.c.mis_id != mis_id)).mappings().first()
            mis_id = row["mis_id"] if row is not None else mis_id
        if row is None:
            if document.get("new_family"):
                return new_family_pupil(document), None
            if mis_id is None:
                raise InputError("pupil: give the pupil's MIS id (or mark the visit new_family for a family not in the MIS)")
            raise InputError(
                f"pupil: there is no pupil {excerpt(mis_id)} at {school} in the synced MIS data; run `hvc sync`, "
                "check the id (`hvc pupil show`), or mark the visit new_family for a family not yet in the MIS"
            )
        name = row["display_name"] or " ".join(p for p in (row["forename"], row["surname"]) if p) or mis_id
        percent = attendance_3m(conn, school, row["mis_id"], school_today(self.clock))
        return PupilRef(name=name, mis_id=mis_id, native_id=row["native_id"], upn=row["upn"],
                        date_of_birth=row["date_of_birth"], attendance_3m=percent), row["address_text"]


# --- rows ↔ models ------------------------------------------------------------------------------


def _code_word(visit: Visit) -> str | None:
    risk = visit.risk_assessment
    return risk.code_word.get_secret_value() if risk is not None and risk.code_word is not None else None


def _outcome_texts(visit: Visit) -> dict[str, str]:
    """The report's free text, by field name, for the code-word check."""
    outcome = visit.outcome
    if outcome is None:
        return {}
    texts = {name: getattr(outcome, name) for name in
             ("child_words", "home_conditions", "discussion", "concerns", "cancellation_reason")}
    texts["agreements"] = " ".join(outcome.agreements)
    texts["action_points"] = " ".join(outcome.action_points)
    return texts


def _refuse_code_word(word: str | None, texts: Mapping[str, str]) -> None:
    """Refuse free text that spells out the code word ``word``: notes and reports reach logs, the audit
    trail and CPOMS, where the word must never appear. Call it before writing, so nothing is written when refused.

    :param word: the visit's code word (``visits.code_word``), or ``None`` when it has none.
    :param texts: field name → the text typed in it; the refusal names the field.
    :raises InputError: when any text holds the word as a whole word, in any case.
    """
    if not word or not word.strip():
        return
    pattern = re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE)
    for field_name, text in texts.items():
        if text and pattern.search(text):
            raise InputError(
                f"{field_name}: it contains the visit's code word. Never write the word down: record the "
                "check-in as code word used (`--code-word-used`), and the office follows the emergency step."
            )


def _columns(visit: Visit) -> dict[str, Any]:
    """The visit's indexed columns and its data, with the code word left out of the data, and the data's digest."""
    data = visit.model_dump(mode="json")
    if data.get("risk_assessment") is not None:
        data["risk_assessment"]["code_word"] = None
    return {
        "pupil_mis_id": visit.pupil.mis_id,
        "pupil_name": visit.pupil.name,
        "emergency": visit.emergency,
        "planned_start": visit.planned_start,
        "expected_return": visit.expected_return,
        "address_text": visit.address,
        "reason": visit.reason,
        "staff_ids": [s.id for s in visit.staff],
        "data": data,
        "data_hash": digest(data),
    }


def _check_warnings(record: VisitRecord, findings: list[Finding], rule_ids: Sequence[str]) -> None:
    """Refuse to acknowledge anything that is not a warning on the visit now."""
    warns = {f.rule_id for f in findings if f.severity is Severity.WARN}
    for rule_id in rule_ids:
        if rule_id not in warns:
            raise InputError(
                f"rule: {rule_id} is not a warning on visit {record.id} now; "
                f"its warnings: {', '.join(sorted(warns)) or 'none'}"
            )


def _required(text: str, option: str, what: str) -> str:
    if not text or not text.strip():
        raise InputError(f"{option}: {what}")
    return text.strip()

