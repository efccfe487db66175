"""The ``hvc watch`` daemon: tick, wait until something falls due, push concerns while waiting, stop on a signal."""

from __future__ import annotations

import logging
import signal
import threading
import time as _time
from collections.abc import Callable

from hv_connector.clock import utc
from hv_connector.watch.tick import TickResult, Watch

log = logging.getLogger("hv_connector.watch")

MIN_WAIT_SECONDS = 0.05
"""The daemon never spins faster than this, whatever the queue says."""
CONCERN_POLL_SECONDS = 0.25
"""How often the daemon looks for new safeguarding concerns between ticks: a concern reaches CPOMS within a
second (``bench/push.py``) even when its push takes half of one; each look is one indexed query."""


def run_daemon(the_watch: Watch, interval: float, push_concerns: Callable[[], None] | None = None, *,
               on_tick: Callable[[TickResult], None] = lambda _r: None,
               stop: threading.Event | None = None) -> int | None:
    """Tick until SIGTERM/SIGINT (or ``stop``), finishing the tick in hand.

    :returns: the signal that stopped it (``None`` when ``stop`` was set), so Ctrl-C can end ``hvc watch``
        with exit 130 while SIGTERM, a service manager's stop, ends it with 0.

    The daemon wakes every ``interval`` seconds (to notice new sign-outs and
    check-ins), or sooner when the queue says an event falls due before then,
    so an event fires when it falls due, not up to a tick later.
    """
    stop = stop or threading.Event()
    stopped_by: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
    log.info("watch started: a tick every %s seconds", interval)
    while not stop.is_set():
        started = _time.monotonic()
        wait = interval
        try:
            on_tick(the_watch.tick(background=True))  # sends run in their own lanes; the next tick never waits
            if push_concerns is not None:
                push_concerns()
            wait -= _time.monotonic() - started
            upcoming = the_watch.next_due()
            if upcoming is not None:
                wait = min(wait, (upcoming - utc(the_watch.clock.now())).total_seconds())
        except Exception:  # the watch must outlive a bad tick (the database restarting, a plugin bug)
            log.exception("watch tick failed; trying again in %s seconds", interval)
        _wait_pushing_concerns(stop, max(MIN_WAIT_SECONDS, wait), push_concerns)
    # Let the messages in flight finish (each within its notifier's timeout), so stopping repeats none.
    the_watch.courier.wait()
    log.info("watch stopped")
    return stopped_by[0] if stopped_by else None


def _wait_pushing_concerns(stop: threading.Event, seconds: float, push_concerns: Callable[[], None] | None) -> None:
    """Wait ``seconds`` (or until stopped), looking for new concerns every :data:`CONCERN_POLL_SECONDS`.

    A concern written just after a tick must not wait for the next one: it goes
    to the DSL through CPOMS within a poll, well inside one tick interval. The
    look is one indexed query for a due priority-0 outbox record.
    """
    deadline = _time.monotonic() + seconds
    while not stop.is_set():
        remaining = deadline - _time.monotonic()
        if remaining <= 0:
            return
        if stop.wait(min(remaining, CONCERN_POLL_SECONDS) if push_concerns else remaining):
            return
        if push_concerns is not None:
            try:
                push_concerns()
            except Exception:  # a CPOMS or database hiccup must not stop the watch; the next poll retries
                log.exception("pushing concerns failed; trying again in %s seconds", CONCERN_POLL_SECONDS)
