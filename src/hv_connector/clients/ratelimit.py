"""The request-rate limiter every HTTP client paces itself with (one per token)."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable


class RateLimiter:
    """Spaces requests at most ``rate`` per second; ``rate <= 0`` means unlimited.

    Requests that must wait go in arrival order, unless the caller passes a ``priority``: then the
    lowest goes next (ties in arrival order). Wonde gives each school its order of arrival as
    priority, so under the limit schools finish one after another instead of all at the end: each
    school's write then overlaps the next one's fetch, and an interrupted run has committed the most
    schools. CPOMS (one token per school) leaves the priority alone.

    Slots are kept on the schedule, so a busy event loop does not lower the rate; a slot taken late
    is made up by at most one interval, so never more than two requests go back to back.

    :param rate: requests per second for this token.
    :param clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._next = 0.0
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = 0
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, priority: int = 0) -> None:
        """Wait for this request's slot; a lower ``priority`` is served first when requests queue."""
        if not self.interval:
            return
        now = self._clock()
        if not self._queue and now >= self._next:
            self._next = now + self.interval
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arrivals += 1
        heapq.heappush(self._queue, (priority, self._arrivals, waiter))
        self._arm()
        await waiter

    def _arm(self) -> None:
        if self._timer is None and self._queue:
            delay = max(0.0, self._next - self._clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._release)

    def _release(self) -> None:
        self._timer = None
        while self._queue:
            _, _, waiter = heapq.heappop(self._queue)
            if not waiter.done():  # a cancelled request gives its turn away
                waiter.set_result(None)
                # The next slot counts from this one, not from now: a timer that fired late (the loop was
                # busy) is made up by the next request instead of slowing every later one. Never more
                # than one interval is made up, so at most two requests go back to back.
                self._next = max(self._next + self.interval, self._clock())
                break
        self._arm()
