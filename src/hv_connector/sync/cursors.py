"""A cursor made of a time, for an MIS adapter whose API filters by "changed after" (Wonde's ``updated_after``).

Cursors are opaque to the sync (:class:`~hv_connector.sync.pipeline.MisAdapter`):
an adapter whose MIS counts revisions stores a revision number instead. This
one is stored as an ISO 8601 time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hv_connector.errors import MisError

OVERLAP = timedelta(minutes=5)
"""The next run asks again for what changed in the last minutes of this one: records edited while we
paged, and any skew between our clock and the MIS's, are picked up rather than missed."""


class TimeCursor:
    """The newest change seen in one walk, turned into the cursor the next walk starts from.

    :param stored: the cursor this walk starts from, as stored (``None``: everything).
    """

    def __init__(self, stored: str | None) -> None:
        self.since = _parse(stored) if stored else None
        """The time to ask for changes after (``None``: everything)."""
        self.newest: datetime | None = None

    def saw(self, moment: datetime | None) -> None:
        """A record changed at ``moment`` (``None``: the MIS did not say)."""
        if moment is not None and (self.newest is None or moment > self.newest):
            self.newest = moment

    def next(self, started_at: datetime) -> str | None:
        """Never later than the run's start (less the overlap), never earlier than where this walk began."""
        if self.newest is None:
            after = self.since
        else:
            after = min(self.newest, started_at - OVERLAP)
            after = max(after, self.since) if self.since else after
        return after.isoformat() if after else None


def _parse(stored: str) -> datetime:
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MisError(f"the stored sync cursor {stored!r} is not a time with its zone: run `hvc sync --full` "
                       "for the school to start again from the beginning")
    return moment
