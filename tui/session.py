"""The dashboard's one door into the core: who is acting, and every read and action the screens use.

Every method here may touch the database or the network, so screens call
them only from a worker thread, never from the UI thread. Actions go through
:class:`~hv_connector.visits.service.VisitService` and the outbox, exactly as the
``hvc`` commands do: same role checks, same audit entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hv_connector.clock import school_today
from hv_connector.errors import AccessRefused, ConfigError, HvcError, InputError, RefusedError
from hv_connector.models import (
    Finding,
    PupilRef,
    Reason,
    RiskTemplate,
    StaffMember,
    Stage,
    Visit,
    VisitOutcome,
)
from hv_connector.outbox import queue as outbox
from hv_connector.proposals.decide import Decision, ProposalDesk
from hv_connector.read import queries
from hv_connector.read.briefing import PupilBriefing, pupil_briefing
from hv_connector.read.proposals import ProposalRow, SchoolLine, list_proposals, school_lines
from hv_connector.store import access, audit
from hv_connector.store.access import Seen
from hv_connector.store.audit import AuditEntry
from hv_connector.store.rows import WAITING, DoubtFound
from hv_connector.visits.input import build_request
from hv_connector.visits.lifecycle import OUT
from hv_connector.visits.printouts import Printout, Printouts
from hv_connector.visits.records import ActionResult, Standing, VisitRecord
from hv_connector.visits.service import VisitService
from hv_connector.watch.escalations import BoardRow, Escalations, EscalationView

if TYPE_CHECKING:
    from hv_connector.sync.pipeline import SchoolResult


@dataclass(frozen=True)
class VisitDetail:
    """Everything the visit screen shows about one visit."""

    record: VisitRecord
    findings: list[Finding]
    standing: Standing | None
    """Overrides and acknowledgements (``None`` once the visit has left the pre-departure stages)."""
    briefing: PupilBriefing | None
    trail: list[AuditEntry]
    authoriser_roles: list[str]
    names: dict[str, str]
    """Staff id → name in the visit's school, to say who decided what."""


@dataclass(frozen=True)
class FormChoices:
    """What the request form offers for one school: its reasons, its directory and its risk template."""

    school_id: str
    reasons: list[Reason]
    staff: list[StaffMember]
    template: RiskTemplate


@dataclass(frozen=True)
class Proposals:
    """The proposals worklist: the open proposals, and why a school has none to show (if it is not "nobody")."""

    rows: list[ProposalRow]
    schools: list[SchoolLine]


@dataclass(frozen=True)
class Preview:
    """The request-stage findings of the form as it stands, or why it cannot be checked yet."""

    findings: list[Finding] = field(default_factory=list)
    problem: str | None = None


class Session:
    """A dashboard session: the visit service, the acting member of staff and the schools shown.

    :param service: the visit lifecycle on the store (its clock is the dashboard's clock).
    :param actor: the directory id of the person using the dashboard.
    :param escalations: the watch's events (acknowledge, escalate now, stand down) and the live board.
    :param schools: the schools shown (default: the actor's own school).
    :param sync: runs the MIS sync of the schools given and returns each one's result (``None``: the dashboard
        cannot sync, e.g. with no MIS set up).
    """

    def __init__(self, service: VisitService, escalations: Escalations, actor: str,
                 schools: Sequence[str] | None = None,
                 sync: Callable[[Sequence[str]], Sequence[SchoolResult]] | None = None) -> None:
        self.service = service
        self.escalations = escalations
        self._sync = sync
        self.member, self.school_id = _find_member(service, actor)
        self.schools = list(schools) if schools else [self.school_id]
        unknown = sorted(set(self.schools) - set(service.directory.schools()))
        if unknown:
            raise ConfigError(f"--school: {', '.join(unknown)} is not configured; configured schools: "
                              f"{', '.join(service.directory.schools()) or 'none'}")

    @property
    def store(self) -> Any:
        return self.service.store

    @property
    def now(self) -> datetime:
        return self.service.clock.now()

    @property
    def today(self) -> date:
        """The school day it is now (the London date)."""
        return school_today(self.service.clock)

    # --- reads ---------------------------------------------------------------------------------

    def pending(self, text: str = "") -> queries.PendingPage:
        with self.store.connect() as conn:
            page = queries.pending(conn, schools=self.schools, text=text)
        self._shown("pending", [Seen("visit", row.visit_id, row.school_id) for row in page.rows])
        return page

    def visits(self, states: Sequence[str], *, newest_first: bool = False) -> list[queries.VisitRow]:
        """The first page of the shown schools' visits in ``states``."""
        with self.store.connect() as conn:
            rows = queries.visit_rows(conn, states, schools=self.schools, newest_first=newest_first)
        self._shown("visits", [Seen("visit", row.visit_id, row.school_id) for row in rows])
        return rows

    def already_out(self, visit_id: str) -> list[str]:
        """A sentence for each of the visit's staff who is out on another visit now."""
        record = self.service.get(visit_id)
        with self.store.connect() as conn:
            out = queries.out_on(conn, [m.id for m in record.visit.staff], [s.value for s in OUT])
        return [f"{m.name} is already out on {', '.join(out[m.id])}." for m in record.visit.staff if m.id in out]

    def board(self) -> list[BoardRow]:
        """Visits out now in the schools shown, most urgent first."""
        rows = [row for row in self.escalations.board() if row.school_id in self.schools]
        self._shown("board", [Seen("visit", row.visit_id, row.school_id) for row in rows])
        return rows

    def outbox(self, *, sent: bool = False) -> list[queries.OutboxRow]:
        """Records not yet delivered (parked first), or with ``sent`` the latest records the receiver took."""
        with self.store.connect() as conn:
            rows = queries.outbox_rows(conn, statuses=("sent",) if sent else WAITING, schools=self.schools,
                                       limit=queries.PAGE, newest_first=sent)
        self._shown("outbox", [Seen("outbox", str(row.id), row.school_id) for row in rows])
        return rows

    def outbox_record(self, outbox_id: int) -> outbox.OutboxRecord:
        """One outbox record with the report it carries."""
        with self.store.connect() as conn:
            record = outbox.get_record(conn, outbox_id)
        self._shown("outbox record", [Seen("outbox", str(record.id), record.school_id)])
        return record

    def _shown(self, screen: str, seen: list[Seen]) -> None:
        """Record in the access log, in one statement, that the screen showed ``seen`` to the acting person."""
        if seen:
            with self.store.begin() as conn:
                access.record(conn, access.reader(f"dashboard: {screen}", self.member.id), seen, self.now)

    def sync_status(self) -> tuple[list[queries.SyncRow], list[queries.QuarantineRow]]:
        with self.store.connect() as conn:
            return queries.sync_status(conn, schools=self.schools, limit=queries.PAGE)

    def proposals(self, shown: int | None = None) -> Proposals:
        """The open proposals of the schools shown, most urgent first, and each school's last evaluation; the first
        ``shown`` of them (all if ``None``) are the ones put on screen, and logged as read."""
        with self.store.connect() as conn:
            found = Proposals(list_proposals(conn, self.schools), school_lines(conn, self.schools))
        # A proposal shows the pupil's attendance: the pupil's record, as far as who looked is concerned.
        self._shown("proposed", [Seen("pupil", row.pupil_mis_id, row.school_id, row.pupil_mis_id)
                                 for row in found.rows[:shown]])
        return found

    def detail(self, visit_id: str) -> VisitDetail:
        """The visit, its findings now (stored ones once it is out), briefing and audit trail."""
        record = self.service.get(visit_id)
        if record.school not in self.schools:
            raise AccessRefused(f"visit {visit_id} belongs to {record.school}, not to the schools this dashboard "
                                f"shows ({', '.join(self.schools)})")
        before_leaving = record.state.value in ("requested", "authorised")
        standing = self.service.standing(visit_id) if before_leaving else None
        with self.store.connect() as conn:
            findings = standing.findings if standing else queries.latest_findings(conn, visit_id)
            pupil = record.visit.pupil
            briefing = None
            if pupil.mis_id and pupil.known_in_mis:
                try:
                    briefing = pupil_briefing(conn, record.school, pupil.mis_id, self.today)
                except InputError:
                    briefing = None  # the pupil has gone from the synced data; the visit still shows
            trail = audit.history(conn, visit_id)
        shown = [Seen("visit", visit_id, record.school)]
        if briefing is not None:
            shown.append(Seen("pupil", briefing.mis_id, record.school, briefing.mis_id))
        self._shown("visit", shown)
        return VisitDetail(record, findings, standing, briefing, trail, self.service.authoriser_roles(record.visit),
                           self.service.directory.names(record.school))

    def find_pupils(self, school_id: str, text: str) -> list[queries.PupilHit]:
        with self.store.connect() as conn:
            return queries.find_pupils(conn, school_id, text, as_of=self.today)

    def form_choices(self, school_id: str) -> FormChoices:
        """The school's reasons, staff directory and risk-assessment template (for a draft visit)."""
        policies = self.service.policies
        template = policies.ask(school_id, "risk_assessment_template", visit=self._draft(school_id)) or RiskTemplate()
        staff = sorted(self.service.directory.staff.get(school_id, {}).values(), key=lambda m: m.name)
        return FormChoices(school_id, policies.reasons(school_id), staff, template)

    @property
    def may_sync(self) -> bool:
        """Whether the person acting may sync the MIS now: a sync is set up and they may authorise visits."""
        return self._sync is not None and self.may_authorise()

    def sync_now(self) -> Sequence[SchoolResult]:
        """Sync the schools shown from their MIS now, as ``hvc sync`` does."""
        if self._sync is None or not self.may_authorise():
            raise RefusedError(f"{self.member.name} cannot sync the MIS from the dashboard: those who may authorise "
                               "visits can, where a sync is set up (or run `hvc sync`)")
        return self._sync(self.schools)

    def may_authorise(self) -> bool:
        """Whether the person acting holds a role their school's policy lets authorise a visit."""
        return bool(set(self.member.roles) & set(self.service.authoriser_roles(self._draft(self.school_id))))

    def _draft(self, school_id: str) -> Visit:
        """A visit being drafted in ``school_id``, for what the policy says before anything is typed."""
        return Visit(school=school_id, pupil=PupilRef(name="(draft)"), planned_start=self.now + timedelta(hours=1))

    def preview(self, document: Mapping[str, Any], pupil: queries.PupilHit | None) -> Preview:
        """The request-stage findings the form would get now; a problem when a field is not usable yet."""
        if pupil is None:
            return Preview(problem="pupil: type part of the pupil's name and choose them")
        try:
            visit = build_request(document, pupil=PupilRef(name=pupil.name, mis_id=pupil.mis_id, upn=pupil.upn,
                                                           attendance_3m=pupil.attendance_3m),
                                  address=pupil.address, requested_by=self.member, visit_id="draft",
                                  find=lambda staff_id: self.service.directory.member(pupil.school_id, staff_id))
        except HvcError as exc:
            return Preview(problem=str(exc))
        options = self.service.directory.options.get(pupil.school_id, {})
        return Preview(findings=self.service.policies.findings(visit, Stage.REQUEST, self.now, options))

    # --- actions (each audited by the service, as the CLI's) ------------------------------------

    def request(self, document: Mapping[str, Any]) -> ActionResult:
        return self.service.request(document, by=self.member.id)

    def authorise(self, visit_id: str, ack: Sequence[str], note: str = "") -> ActionResult:
        return self.service.authorise(visit_id, by=self.member.id, ack=ack, note=note)

    def acknowledge(self, visit_id: str, rule_ids: Sequence[str], note: str = "") -> ActionResult:
        return self.service.ack(visit_id, rule_ids, by=self.member.id, note=note)

    def decline(self, visit_id: str, reason: str) -> ActionResult:
        return self.service.decline(visit_id, by=self.member.id, reason=reason)

    def override(self, visit_id: str, rule_id: str, reason: str) -> ActionResult:
        return self.service.override(visit_id, rule_id, by=self.member.id, reason=reason)

    def report(self, visit_id: str, outcome: VisitOutcome) -> ActionResult:
        return self.service.report(visit_id, outcome, by=self.member.id)

    def sign_out(self, visit_id: str) -> ActionResult:
        """Staff are leaving for the home: the watch looks after the visit from now."""
        return self.service.sign_out(visit_id, by=self.member.id)

    def cancel(self, visit_id: str, reason: str) -> ActionResult:
        return self.service.cancel(visit_id, by=self.member.id, reason=reason)

    def abort(self, visit_id: str, reason: str) -> ActionResult:
        return self.service.abort(visit_id, by=self.member.id, reason=reason)

    def close(self, visit_id: str, note: str = "") -> ActionResult:
        return self.service.close(visit_id, by=self.member.id, note=note)

    def check_in(self, visit_id: str, *, kind: str, code_word_used: bool, concerns: bool,
                 note: str = "", door: Mapping[str, Any] | None = None) -> ActionResult:
        """A contact with staff who are out, and what they report from the home (``door``: check-in fields);
        with the code word used, the watch jumps to the emergency step."""
        return self.service.check_in(visit_id, by=self.member.id, kind=kind, code_word_used=code_word_used,
                                     concerns=concerns, note=note, door=door)

    def extend(self, visit_id: str, new_return: datetime, note: str = "") -> ActionResult:
        """More time asked for: the expected return moves later (audited)."""
        return self.service.extend(visit_id, new_return, by=self.member.id, note=note)

    def return_(self, visit_id: str) -> ActionResult:
        """Staff are back: the visit leaves the board and the watch stands down."""
        return self.service.return_(visit_id, by=self.member.id)

    def acknowledge_step(self, escalation_id: int, note: str) -> EscalationView:
        return self.escalations.ack(escalation_id, by=self.member.id, note=note)

    def escalate_now(self, escalation_id: int) -> EscalationView:
        return self.escalations.escalate_now(escalation_id, by=self.member.id)

    def stand_down(self, visit_id: str, note: str = "") -> list[EscalationView]:
        return self.escalations.stand_down(visit_id, by=self.member.id, note=note)

    def pack(self, visit_id: str) -> Printout:
        """Print the visit's briefing pack to the printouts folder, as ``hvc visit pack`` does (audited)."""
        return Printouts(self.service).pack(visit_id, by=self.member.id)

    def export(self, visit_id: str) -> Printout:
        """Export the finished visit's record to PDF, as ``hvc visit export`` does (audited)."""
        return Printouts(self.service).export(visit_id, by=self.member.id)
    def accept_proposal(self, proposal_id: str) -> Decision:
        """Accept as the acting member: the visit request (or the referral) the proposal's trigger proposes."""
        return ProposalDesk(self.service).accept(proposal_id, by=self.member.id)

    def dismiss_proposal(self, proposal_id: str, reason: str) -> Decision:
        return ProposalDesk(self.service).dismiss(proposal_id, by=self.member.id, reason=reason)

    def retry(self, outbox_id: int) -> outbox.OutboxRecord:
        return outbox.retry(self.store, outbox_id, actor=self.member.id, now=self.now)

    def confirm_entered(self, outbox_id: int, ref: str) -> outbox.OutboxRecord:
        """The DSL team entered record ``outbox_id`` in CPOMS as ``ref`` (audited, as the person at the dashboard)."""
        return outbox.confirm(self.store, outbox_id, ref=ref, by=self.member, now=self.now)

    def check_doubt(self, outbox_id: int, found: DoubtFound) -> outbox.OutboxRecord:
        """The person at the dashboard looked in CPOMS for a second copy of record ``outbox_id`` and found ``found``
        (audited, as ``hvc outbox checked`` does)."""
        return outbox.check_doubt(self.store, outbox_id, found=found, by=self.member, now=self.now)


def _find_member(service: VisitService, actor: str) -> tuple[StaffMember, str]:
    """The directory entry for ``actor`` and their school; :class:`ConfigError` when nobody has that id."""
    for school in service.directory.schools():
        member = service.directory.member(school, actor)
        if member is not None:
            return member, school
    raise ConfigError(f"--as: {actor!r} is not in any school's staff directory; use a directory id "
                      "(`hvc config show` lists them)")
