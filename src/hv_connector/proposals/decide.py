"""The DSL team's decision on a proposal: accept (a visit request, through the normal request → authorise path,
or the referral the trigger proposes) or dismiss with a reason. Only the roles the trigger names may decide;
every decision is audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import update

from hv_connector.clock import LONDON, local
from hv_connector.errors import InputError, RefusedError
from hv_connector.models import Proposes, Reason, StaffMember
from hv_connector.read.proposals import ProposalRow, get_proposal
from hv_connector.store import audit
from hv_connector.store.schema import proposals
from hv_connector.visits.records import ActionResult
from hv_connector.visits.service import VisitService

PROPOSED_START = time(10, 0)
"""A visit accepted from a proposal is first planned for 10:00 on the next weekday; the request can be changed."""
PROPOSED_LENGTH = timedelta(hours=1)


@dataclass
class Decision:
    """What a decision did: the proposal after it, and the visit requested (accepting a visit proposal)."""

    proposal: ProposalRow
    visit: ActionResult | None = None


class ProposalDesk:
    """Accept or dismiss proposals, on the visit service's store, policies, directory and clock.

    :param guard: called with the proposal once it is read, before anything else is checked (the CLI refuses
        another school's proposal there); it raises to refuse.
    """

    def __init__(self, service: VisitService, guard: Callable[[ProposalRow], None] | None = None) -> None:
        self.service = service
        self.guard = guard

    def accept(self, proposal_id: str, *, by: str) -> Decision:
        """Accept: request the visit the trigger proposes (pre-filled from the pupil and the trigger), or record that
        the school will notify the local authority. The visit still needs its authoriser, as any other."""
        proposal, member = self._open(proposal_id, by)
        visit = None
        if proposal.trigger.proposes is Proposes.VISIT:
            visit = self.service.request(self.request_document(proposal), by=member.id)
        self._decide(proposal, member, "accepted", note=None, visit_id=visit.record.id if visit else None)
        return Decision(self._reload(proposal_id), visit)

    def dismiss(self, proposal_id: str, *, by: str, reason: str) -> Decision:
        """Dismiss with a written reason: no visit. The same trigger proposes the pupil again only once they have
        stopped meeting it and meet it anew."""
        if not reason or not reason.strip():
            raise InputError("--reason: say why the proposal is dismissed (e.g. \"family moved; CME referral made\")")
        proposal, member = self._open(proposal_id, by)
        self._decide(proposal, member, "dismissed", note=reason.strip(), visit_id=None)
        return Decision(self._reload(proposal_id))

    def request_document(self, proposal: ProposalRow) -> dict[str, object]:
        """The visit request a proposal opens: the pupil, the school's reason for it, a purpose naming the trigger
        and its figures, the accepting member as visiting staff, next weekday at 10:00 for an hour."""
        start = _next_weekday_at(self.service.clock.now(), PROPOSED_START)
        return {
            "school": proposal.school_id, "pupil": proposal.pupil_mis_id,
            "reason": _reason(proposal, self.service.policies.reasons(proposal.school_id)),
            "purpose": f"Proposed from attendance — {proposal.trigger.title}: {proposal.figure_line()} "
                       f"({proposal.trigger.clause}).",
            "planned_start": start.isoformat(), "expected_return": (start + PROPOSED_LENGTH).isoformat(),
            "staff": [proposal.decided_by] if proposal.decided_by else [],
        }

    def _open(self, proposal_id: str, by: str) -> tuple[ProposalRow, StaffMember]:
        with self.service.store.connect() as conn:
            proposal = get_proposal(conn, proposal_id)
        if proposal is None:
            raise InputError(f"there is no proposal {proposal_id!r}: `hvc propose list` shows the open ones")
        if self.guard is not None:
            self.guard(proposal)
        if proposal.status != "open":
            raise RefusedError(f"proposal {proposal_id} is {proposal.status} already"
                               + (f" (by {proposal.decided_by})" if proposal.decided_by else "")
                               + (f": {proposal.closed_reason}" if proposal.closed_reason else ""))
        member = self.service.directory.member(proposal.school_id, by)
        if member is None:
            raise InputError(f"--as: {by!r} is not in {proposal.school_id}'s staff directory "
                             f"([[staff.{proposal.school_id}]] in hvc.toml)")
        if not member.has_any(proposal.trigger.deciders):
            raise RefusedError(f"{member.name} ({member.id}) may not decide this proposal: under "
                               f"{proposal.trigger.clause} only {', '.join(proposal.trigger.deciders)} may")
        return proposal.model_copy(update={"decided_by": member.id}), member

    def _decide(self, proposal: ProposalRow, member: StaffMember, status: str, *, note: str | None,
                visit_id: str | None) -> None:
        now = self.service.clock.now()
        with self.service.store.begin() as conn:
            done = conn.execute(update(proposals).where(proposals.c.id == proposal.id, proposals.c.status == "open")
                                .values(status=status, decided_by=member.id, decided_at=now, note=note,
                                        visit_id=visit_id)).rowcount
            if not done:
                raise RefusedError(f"proposal {proposal.id} was decided by someone else meanwhile"
                                   + (f"; cancel visit {visit_id}, requested just now, if it is not needed" if visit_id else ""))
            audit.append(conn, actor=member.id, action=f"proposal.{status.removesuffix('ed')}", school_id=proposal.school_id,
                         visit_id=visit_id, at=now,
                         detail={"proposal": proposal.id, "pupil": proposal.pupil_mis_id, "trigger": proposal.trigger.id,
                                 "proposes": proposal.trigger.proposes.value, "note": note})

    def _reload(self, proposal_id: str) -> ProposalRow:
        with self.service.store.connect() as conn:
            found = get_proposal(conn, proposal_id)
        assert found is not None  # decided just now; proposals are never deleted
        return found


def _reason(proposal: ProposalRow, reasons: list[Reason]) -> str:
    """The trigger's reason when the school accepts it, else the school's first attendance reason."""
    codes = [r.code for r in reasons]
    if proposal.trigger.reason in codes:
        return proposal.trigger.reason
    attendance = [r.code for r in reasons if "attendance" in r.tags]
    if not attendance:
        raise RefusedError(f"school {proposal.school_id}'s policy has no attendance reason for a visit: request one with "
                           "`hvc visit request` and the reason that fits")
    return attendance[0]


def _next_weekday_at(now: datetime, at: time) -> datetime:
    day = local(now).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, at, LONDON)
