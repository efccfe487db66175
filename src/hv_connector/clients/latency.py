"""A receiver's recent answer time, measured by the client that waits for it (the push sizes its window from it)."""

from __future__ import annotations

SMOOTHING = 0.2
"""Weight of the newest answer in the estimate (an exponentially weighted moving average)."""


class Latency:
    """Seconds a receiver took to answer lately: a moving average that follows it as it speeds up or slows down."""

    def __init__(self) -> None:
        self.seconds: float | None = None
        """The estimate; ``None`` before the first answer."""

    def observe(self, seconds: float) -> None:
        """Fold one answer's time (from the request sent to its answer's headers) into the estimate."""
        self.seconds = seconds if self.seconds is None else self.seconds + SMOOTHING * (seconds - self.seconds)
