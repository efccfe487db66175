"""How many of one school's records a push keeps in flight: its token's rate × its receiver's latency.

By Little's law a receiver answering in ``L`` seconds, at ``R`` requests a
second, has ``R × L`` requests in flight. Fewer and the push runs below the
rate the token allows (8 in flight at a real receiver's ~200 ms reach a tenth of
20 requests/s); more only wait in the client's rate limiter, each holding a
claimed record. So each school's window is ``R × L`` with :data:`HEADROOM`,
from the latency the sink measured on its last answers
(:class:`hv_connector.clients.latency.Latency`, which follows the receiver as
it speeds up or slows down).

A sink says how fast it may go through two optional attributes:
``requests_per_second`` (``None`` or absent: no limit) and ``latency``
(seconds, its recent answers' time; absent or ``None``: not measured yet). A
sink with no rate (a file written locally) gets :data:`UNPACED_WINDOW`.
"""

from __future__ import annotations

import math
from typing import Any

HEADROOM = 2.0
"""In flight per school = rate × latency × this, so a slower answer or a late timer does not idle the token."""
ASSUMED_LATENCY = 0.25
"""Seconds assumed for a receiver before its first answer (a real one on the internet: ~200 ms)."""
UNPACED_WINDOW = 8
"""In flight for a sink that sets no rate (nothing to pace against)."""
MAX_WINDOW = 256
"""Never more in flight for one school, however slow its receiver looks."""
CLAIM_SECONDS = 1.0
"""Records are claimed (one UPDATE) about this many seconds of a school's rate at a time."""


def rate_of(sink: Any) -> float | None:
    """The sink's requests per second, or ``None`` when it sets no limit."""
    rate = getattr(sink, "requests_per_second", None)
    return rate if rate else None


def window(sink: Any) -> int:
    """How many of this sink's records to have in flight now (at least two when it is paced)."""
    rate = rate_of(sink)
    if rate is None:
        return UNPACED_WINDOW
    latency = getattr(sink, "latency", None) or ASSUMED_LATENCY
    # One more than the answers in flight, so the next request is ready when the limiter frees its slot.
    return min(MAX_WINDOW, math.ceil(rate * latency * HEADROOM) + 1)


def claim_batch(sink: Any) -> int:
    """How many records to claim at once for this sink: about :data:`CLAIM_SECONDS` of its rate, at least a window."""
    rate = rate_of(sink)
    per_claim = UNPACED_WINDOW if rate is None else math.ceil(rate * CLAIM_SECONDS)
    return max(window(sink), per_claim)
