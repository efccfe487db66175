"""Session marks: which days each sync asks an MIS for, and the records an adapter yields for them.

An adapter that can read the register implements :class:`RegisterSource` besides
:class:`~hv_connector.sync.pipeline.MisAdapter`; the pipeline walks its marks after the pupils,
into the same spool, so they are written in the school's one transaction.

- The first sync of a school, and every ``--full`` one, asks for every day a figure needs
  (:func:`~hv_connector.attendance.figures.earliest_needed`: the school year so far, or the last
  3 months and 10 school weeks when they reach further back) and **replaces** the school's marks
  over those days, so a mark deleted in the MIS goes here too.
- An incremental sync asks for the same days but only marks changed since its cursor (the newest
  change it saw, less an overlap), and writes them over the old ones.
- Every sync drops marks older than any figure reads.

An MIS whose marks carry no change time leaves the cursor empty, so every sync is a full one:
correct, and as costly as a first sync.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import NamedTuple, Protocol, runtime_checkable

from hv_connector.attendance.figures import earliest_needed
from hv_connector.sync.records import Rejected

MARKS = "session-marks"
"""The marks' cursor name (``sync_cursors.resource``) and their spool batch kind."""
MARK_DAYS = "session-mark-days"
"""Spool batch kind: the days a walk covered, and whether its marks replace the school's over them."""
SESSIONS = ("AM", "PM")


class SessionMark(NamedTuple):
    """One register mark, normalised: a tuple, not a model, because a school year is ~400 marks a pupil."""

    pupil_mis_id: str
    day: date
    session: str
    """``AM`` or ``PM``."""
    code: str
    """As the register shows it (``/``, ``N``, ``Y1``…)."""
    meaning: str
    """A :class:`~hv_connector.attendance.codes.Meaning` value, read when the mark was synced."""
    updated_at: datetime | None = None


MarkItem = SessionMark | Rejected


class MarkDays(NamedTuple):
    """The days one walk asked for; ``replace``: its marks are all the MIS has over them."""

    first: date
    last: date
    replace: bool


NO_REGISTER = MarkDays(date.min, date.max, replace=True)
"""Every day, replaced by nothing: the school has withdrawn its register."""


@runtime_checkable
class RegisterSource(Protocol):
    """An MIS adapter that can read session marks (the register)."""

    def session_marks(self, first: date, last: date, cursor: str | None) -> AsyncIterator[Sequence[MarkItem]]:
        """Marks for days ``first`` to ``last`` (inclusive), changed since the adapter's own ``cursor``
        (``None``: all of them); the sync then asks ``next_cursor(MARKS, …)`` as for the other resources.

        An adapter may yield marks outside the days asked for; the sync keeps only those inside.
        """
        ...


def mark_days(today: date, cursor: str | None) -> MarkDays:
    """The days a sync on ``today`` asks for: all a figure reads; replaced when the walk is not incremental
    (no ``cursor`` to start from)."""
    return MarkDays(earliest_needed(today), today, replace=cursor is None)
