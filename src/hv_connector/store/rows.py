"""The shape of an ``outbox`` row, shared by the queue that writes and sends records and the reads that list them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from hv_connector import humanize
from hv_connector.models.common import Frozen

OutboxStatus = Literal["pending", "sending", "awaiting-entry", "in-tray", "sent", "parked"]
"""Where an outbox record is in its delivery (a different list from a visit's states). ``awaiting-entry``: a
sink that needs a person (the manual sink) has written it out; it is sent once the DSL team confirms its CPOMS
record number (``hvc outbox confirm``). ``in-tray``: the receiver took it but left it unmatched in its Incident
Tray (``cpoms_id`` is the tray's incident number); it is sent once the DSL team confirms they attached it to
the pupil (``hvc outbox confirm``), and never sent again."""

AWAITING_ENTRY: OutboxStatus = "awaiting-entry"
"""Written for a person to enter by hand; waiting for their confirmation."""
IN_TRAY: OutboxStatus = "in-tray"
"""In the receiver's Incident Tray, on no pupil's chronology; waiting for a person to attach it and confirm."""
TO_CONFIRM: tuple[OutboxStatus, ...] = (AWAITING_ENTRY, IN_TRAY)
"""Statuses a person ends with ``hvc outbox confirm``; a concern left in one too long alarms the DSL team."""

WHERE: dict[OutboxStatus, str] = {
    "pending": "not yet sent to CPOMS",
    "sending": "being sent to CPOMS",
    "awaiting-entry": "written out for the DSL team to enter in CPOMS by hand",
    "in-tray": "in CPOMS's Incident Tray, on no pupil's chronology",
    "sent": "on the pupil's chronology in CPOMS",
    "parked": "refused by CPOMS, waiting to be fixed and retried",
}
"""Where a record in each status is, in words: the one wording wherever a status is explained to a person."""


def confirmed_as(ref: str, *, attached: bool, pupil: str = "the pupil") -> str:
    """What a confirmation (``hvc outbox confirm``) says was done: ``entered in CPOMS as REF``, or for a record that
    was in the tray, ``attached to PUPIL in CPOMS as incident REF``; the one wording for the command's answer, the
    audit trail's sentence and the closed alarm's note."""
    return f"attached to {pupil} in CPOMS as incident {ref}" if attached else f"entered in CPOMS as {ref}"


MAY_BE_TWICE = "may be in CPOMS twice: check CPOMS and merge the copies"
"""What a record sent with a :attr:`OutboxEntry.doubt` is marked with, and what a person must do: the one wording for
``hvc outbox``, ``hvc status``, the audit trail and the dashboard (each shows the doubt itself beside it)."""


DoubtFound = Literal["one", "two"]
"""What a person found in CPOMS when they checked a record that may be there twice (``hvc outbox checked``):
``one`` copy only, or ``two``, the extra one since merged or removed in CPOMS by that person."""

FOUND: dict[DoubtFound, str] = {"one": "one copy", "two": "two copies, the extra one merged"}
"""What each :data:`DoubtFound` says, in words."""


def twice_checked(by: str, at: datetime, found: DoubtFound) -> str:
    """What a record's check for a second copy in CPOMS says: ``checked by NAME on Mon 23 Nov 2026 10:00: one
    copy``; the one wording for ``hvc outbox``, the command's answer and the dashboard (:data:`MAY_BE_TWICE` until
    then)."""
    return f"checked by {by} on {humanize.moment(at)}: {FOUND[found]}"


OUTBOX_STATUSES: tuple[OutboxStatus, ...] = get_args(OutboxStatus)
"""Every value ``outbox.status`` may hold, in delivery order."""
WAITING: tuple[OutboxStatus, ...] = tuple(status for status in OUTBOX_STATUSES if status != "sent")
"""Outbox statuses of records not yet done: not in CPOMS, or in its tray on no pupil's chronology."""

CONCERN, ROUTINE = 0, 1
"""Outbox priorities: a safeguarding concern goes before every routine record."""


class OutboxEntry(Frozen):
    """One outbox record's columns but its payload: what a list shows and a push or a retry reads first."""

    id: int
    school_id: str
    visit_id: str | None
    kind: str
    priority: int
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime | None
    """The next try (pending), or when a push's claim lapses (sending)."""
    last_error: str | None
    """CPOMS's reason for parking the record, or the last failure."""
    cpoms_id: str | None
    alert_dsl: bool
    created_at: datetime
    sent_at: datetime | None
    doubt: str | None = None
    """Why the receiver may hold this record twice (sent again after a lost answer, when nothing could tell whether
    the first send was stored), neutralised; ``None`` when there is no such doubt (:data:`MAY_BE_TWICE`). Kept once
    a person has checked, for the record's history."""
    doubt_checked_by: str | None = None
    """The name of the person who looked in CPOMS for a second copy, as the staff directory gave it then (the audit
    entry ``outbox.twice-checked`` names their id); ``None`` until someone has."""
    doubt_checked_at: datetime | None = None
    """When they said they had looked."""
    doubt_found: DoubtFound | None = None
    """What they found there (:data:`FOUND`)."""

    @property
    def to_check(self) -> bool:
        """The receiver may hold this record twice and nobody has said they looked: :data:`MAY_BE_TWICE`."""
        return self.doubt is not None and self.doubt_checked_at is None

    @property
    def checked(self) -> str | None:
        """What the check for a second copy found, in words (:func:`twice_checked`); ``None`` before one."""
        if self.doubt_checked_by is None or self.doubt_checked_at is None or self.doubt_found is None:
            return None
        return twice_checked(self.doubt_checked_by, self.doubt_checked_at, self.doubt_found)

    @property
    def concern(self) -> bool:
        """A safeguarding concern: delivered before every routine record."""
        return self.priority == CONCERN
