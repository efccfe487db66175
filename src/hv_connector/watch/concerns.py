"""Safeguarding concerns pushed to each school's sink from the watch, between ticks, so none waits for the next one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hv_connector.outbox.push import Pusher
from hv_connector.outbox.sinks import open_sinks
from hv_connector.plugins import merged_registry
from hv_connector.runtime import Runtime

log = logging.getLogger("hv_connector.watch")


def concern_pusher(rt: Runtime) -> Callable[[], None] | None:
    """Push due safeguarding concerns to every school's sink (what ``hvc push --concerns-only`` does).

    Every school has a sink (the ``manual`` one when none is set), so ``None`` only when no school is configured.
    """
    if not rt.settings.schools:
        return None
    sink_for = open_sinks(rt.settings, merged_registry(rt.pm, "report_sinks"), rt.settings.schools)
    pusher = Pusher(rt.store, sink_for, now=rt.clock.now)
    asyncio.run(pusher.open_each([school.id for school in rt.settings.schools]))

    def push() -> None:
        if pusher.due(concerns_only=True, limit=1):
            summary = asyncio.run(pusher.run(concerns_only=True))
            # A concern parked (refused by the receiver) or still waiting is a warning, not news.
            log.log(logging.INFO if summary.exit_code == 0 else logging.WARNING, "pushed concerns: %s", summary.said())

    return push
