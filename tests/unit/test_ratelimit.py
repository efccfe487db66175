"""The shared rate limiter: spacing, priority order for Wonde, arrival order for CPOMS, a busy loop."""

from __future__ import annotations

import asyncio
import time

from hv_connector.clients.ratelimit import RateLimiter


async def serve(limiter: RateLimiter, now: list[float], requests: list[tuple[str, int]]) -> list[str]:
    """Queue ``requests`` (name, priority) behind one that went at once; advance the fake clock until all went."""
    order: list[str] = []

    async def request(name: str, priority: int) -> None:
        await limiter.acquire(priority)
        order.append(name)

    await limiter.acquire()  # the first request goes at once
    waiting = [asyncio.ensure_future(request(name, priority)) for name, priority in requests]
    await asyncio.sleep(0)
    assert order == []  # nothing before its slot
    while not all(task.done() for task in waiting):
        now[0] += 0.1
        await asyncio.sleep(0.001)
    return order


async def stamped(limiter: RateLimiter, sent: list[float]) -> None:
    """Wait for a slot, then note the loop's time: when the request went."""
    await limiter.acquire()
    sent.append(asyncio.get_running_loop().time())


async def test_queued_requests_go_lowest_priority_first_so_the_first_school_finishes_first() -> None:
    now = [100.0]
    order = await serve(RateLimiter(10, clock=lambda: now[0]),
                        now, [("second-school-1", 1), ("first-school-1", 0), ("first-school-2", 0)])
    assert order == ["first-school-1", "first-school-2", "second-school-1"]


async def test_without_a_priority_requests_go_in_arrival_order() -> None:
    now = [100.0]
    order = await serve(RateLimiter(10, clock=lambda: now[0]), now, [("a", 0), ("b", 0), ("c", 0)])
    assert order == ["a", "b", "c"]


async def test_no_request_goes_before_its_slot() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(20, clock=loop.time)  # a slot every 0.05 s
    start = loop.time()
    sent: list[float] = []
    await asyncio.gather(*(stamped(limiter, sent) for _ in range(4)))
    # The k-th request's slot is k intervals after the first (which went at once, at or after ``start``).
    # A late wake-up may bunch two requests together, but never lets one go before its slot.
    early = [k for k, at in enumerate(sent) if at - start < k * 0.05 - 0.005]
    assert early == [], [round(at - start, 3) for at in sent]


async def test_a_rate_of_zero_does_not_limit() -> None:
    limiter = RateLimiter(0, clock=lambda: 0.0)  # a frozen clock: any wait would never end
    await asyncio.wait_for(asyncio.gather(*(limiter.acquire() for _ in range(50))), timeout=1)


async def test_a_busy_event_loop_does_not_lower_the_request_rate() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(4, clock=loop.time)  # a slot every 0.25 s
    sent: list[float] = []
    start = loop.time()
    await limiter.acquire()
    waiting = [asyncio.ensure_future(stamped(limiter, sent)) for _ in range(2)]
    await asyncio.sleep(0)
    time.sleep(0.375)  # noqa: ASYNC251 — a big page parsed on the loop: the 0.25 s slot is taken at 0.375 s
    await asyncio.gather(*waiting)
    # The next request keeps to the 0.5 s slot instead of waiting a whole interval from 0.375 s.
    assert sent[1] - start < 0.6
