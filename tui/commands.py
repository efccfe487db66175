"""The command palette's provider: every screen, and every action of every screen, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], Awaitable[None] | None]]
"""Name shown, help line, what runs."""


class DashboardCommands(Provider):
    """Go to a screen, or run any of the dashboard's actions (on the screen it belongs to)."""

    def commands(self) -> list[Command]:
        app = self.app
        found: list[Command] = [(f"Go to {title}", tooltip, partial(app.run_action, action))
                                for title, action, tooltip in app.destinations()]
        current = self.screen
        for binding in getattr(current, "BINDINGS", ()):
            found.append((f"{current.TITLE or 'This screen'}: {binding.description}", binding.tooltip,
                          partial(current.run_action, binding.action)))
        for mode, screen_type in app.MODES.items():
            if isinstance(current, screen_type):
                continue
            title = screen_type.TITLE
            for binding in screen_type.BINDINGS:
                found.append((f"{title}: {binding.description}", binding.tooltip,
                              partial(app.run_in_mode, mode, binding.action)))
        return found

    async def discover(self) -> Hits:
        for name, help_text, run in self.commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
