"""Messages the dashboard's workers post with what they read or did.

A worker runs the IO on a thread and posts one of these to its screen; the
screen's handler (on the UI thread) paints it. Tests watch for them through
``message_hook``: a message here means the store answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from hv_connector.outbox.queue import OutboxRecord
from hv_connector.proposals.decide import Decision
from hv_connector.read import queries
from hv_connector.visits.printouts import Printout
from hv_connector.visits.records import ActionResult
from hv_connector.watch.escalations import BoardRow
from hvc_tui.session import FormChoices, Preview, Proposals, VisitDetail


@dataclass
class PendingLoaded(Message):
    """The pending visits matching ``text``."""

    page: queries.PendingPage
    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PendingLoaded)  # only the newest filter's rows are worth painting


@dataclass
class VisitsLoaded(Message):
    """The visits in the states of the filter ``chosen``."""

    rows: list[queries.VisitRow]
    chosen: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, VisitsLoaded)  # only the newest choice's rows are worth painting


@dataclass
class BoardLoaded(Message):
    """The visits that are out, as of one board tick."""

    rows: list[BoardRow]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BoardLoaded)  # a tick still queued is stale once a newer one arrives


@dataclass
class OutboxLoaded(Message):
    """Records waiting to go or refused by the receiver (``sent``: records the receiver took)."""

    rows: list[queries.OutboxRow]
    sent: bool = False


@dataclass
class OutboxRecordLoaded(Message):
    """One outbox record with its report."""

    record: OutboxRecord


@dataclass
class SyncLoaded(Message):
    """The last sync run per school and the open quarantine."""

    runs: list[queries.SyncRow]
    quarantine: list[queries.QuarantineRow]


@dataclass
class ProposalsLoaded(Message):
    """The open proposals and each school's last evaluation."""

    proposals: Proposals


@dataclass
class ProposalDecided(Message):
    """A proposal accepted or dismissed (with the visit requested, when one was)."""

    decision: Decision


@dataclass
class DetailLoaded(Message):
    """One visit's detail."""

    detail: VisitDetail


@dataclass
class PupilsFound(Message):
    """Pupils whose name holds ``text``."""

    hits: list[queries.PupilHit]
    text: str


@dataclass
class ChoicesLoaded(Message):
    """A school's reasons, staff and risk template for the request form."""

    choices: FormChoices


@dataclass
class FindingsPreviewed(Message):
    """The request-stage findings of the form as it stands."""

    preview: Preview


@dataclass
class VisitActed(Message):
    """A lifecycle action went through (and is in the audit log)."""

    result: ActionResult
    busy: tuple[str, ...] = ()
    """A sentence for each of the visit's staff already out on another visit (said when it is requested)."""


@dataclass
class Printed(Message):
    """A PDF of a visit was written (and the printing is in the audit log)."""

    printout: Printout
    what: str
    """What was printed, in words: "briefing pack", "record"."""


@dataclass
class OutboxRetried(Message):
    """A parked record is back in the queue."""

    record: OutboxRecord


@dataclass
class OutboxConfirmed(Message):
    """A record written for the DSL team was confirmed as entered in CPOMS: it is done."""

    record: OutboxRecord


@dataclass
class OutboxTwiceChecked(Message):
    """A record that may have been in CPOMS twice was checked there by the person at the dashboard."""

    record: OutboxRecord


@dataclass
class EscalationActed(Message):
    """Something was done on the live board: a check-in, more time, staff back, or an escalation step
    acknowledged, advanced or stood down."""

    what: str
    detail: Any = None
