"""The clock for ``hvc`` commands a test runs in its own process, one after another (``HVC_CLOCK_START``)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from hv_connector.clock import CLOCK_START_VARIABLE


class CommandClock:
    """Commands in one test happen one after another, as a user's would, never at the same moment.

    The first command starts at ``start``; each next one a second after the one before began, or as long
    after as that one ran if it ran longer (by the shifted clock). The time the test spends between
    commands does not count. A command given ``at`` starts then instead: for a test that needs two
    commands at one instant, or a jump to a later one.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        self._monkeypatch = monkeypatch
        self._next = start

    @contextmanager
    def command(self, at: datetime | None = None) -> Iterator[None]:
        """Set the clock for the one command run inside the block, and move it on once that command ends.

        :param at: when the command starts; the moment after the command before when not given.
        """
        start = self._next if at is None else at
        began = time.time()
        self._monkeypatch.setenv(CLOCK_START_VARIABLE, f"{start.isoformat()}@{began}")
        try:
            yield
        finally:  # a command that raised took its time too
            self._next = start + timedelta(seconds=max(1, math.ceil(time.time() - began)))
