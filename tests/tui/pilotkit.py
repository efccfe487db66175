"""Running the dashboard under the Pilot: start it on a world, let workers finish, collect messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TypeVar

from dashkit import World
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import TextArea
from textual.worker import WorkerCancelled, WorkerState

from hvc_tui.app import HvcApp
from hvc_tui.screens.visit import VisitScreen


async def settle(pilot: Pilot) -> None:
    """Wait until every worker has finished and every message it posted has been handled.

    A handler may start another worker (a screen's rows, then the findings they lead to), so this goes round
    until a pause leaves no worker pending or running; an idle app costs two pauses, not a fixed number.
    """
    for _ in range(10):
        await pilot.pause()
        # A newer keystroke may cancel a worker (exclusive workers): the newer one is waited for next round.
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
            return
    raise AssertionError("the dashboard's workers never settled")


def fill(screen: Screen[object], fields: Mapping[str, str | bool]) -> None:
    """Leave ``fields`` (id: value) filled in on ``screen`` as a person would: a text area's text, any other
    field's value (a tick, a typed text, a choice)."""
    for field_id, value in fields.items():
        widget = screen.query_one(f"#{field_id}")
        if isinstance(widget, TextArea):
            widget.text = str(value)
        else:
            widget.value = value


Opened = TypeVar("Opened", bound=Screen[object])


@dataclass
class Run:
    """A running dashboard: the app, its pilot, and every message it has handled so far."""

    app: HvcApp
    pilot: Pilot
    messages: list[Message] = field(default_factory=list)

    async def settle(self) -> None:
        await settle(self.pilot)

    def posted(self, kind: type[Message]) -> list[Message]:
        """Each message of ``kind`` once (the hook sees a message at every pump it passes)."""
        unique = {id(m): m for m in self.messages if isinstance(m, kind)}
        return list(unique.values())

    def notices(self, severity: str = "information") -> list[str]:
        """The notifications shown so far with ``severity`` (``error`` for refusals and failures)."""
        return [m.notification.message for m in self.posted(Notify) if m.notification.severity == severity]

    def screen_lines(self) -> list[str]:
        """The text on the screen now, line by line, as a person sees it."""
        return [strip.text for strip in self.app.screen._compositor.render_strips()]

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.settle()

    async def opens(self, key: str, kind: type[Opened]) -> Opened:
        """Press ``key`` and give the screen or dialog it opens, which must be a ``kind``."""
        await self.press(key)
        screen = self.app.screen
        assert isinstance(screen, kind), f"{key} opened {type(screen).__name__}, not {kind.__name__}"
        return screen

    async def open_visit(self, visit_id: str) -> VisitScreen:
        """Open the visit's screen (as Enter on its row does) and wait until it shows the visit."""
        self.app.open_visit(visit_id)
        await self.settle()
        assert isinstance(self.app.screen, VisitScreen)
        return self.app.screen


@asynccontextmanager
async def dashboard(world: World, *, actor: str = "pt-head", mode: str | None = "pending",
                    size: tuple[int, int] = (120, 40)) -> AsyncIterator[Run]:
    app = HvcApp(world.session(actor), board_seconds=3600, mode=mode)
    messages: list[Message] = []
    async with app.run_test(size=size, message_hook=messages.append) as pilot:
        run = Run(app, pilot, messages)
        await run.settle()
        yield run
