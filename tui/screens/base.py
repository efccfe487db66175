"""What every dashboard screen shares: a handler that turns a failed worker into a notification, the list layout,
and the reload and back keys."""

from __future__ import annotations

from contextlib import suppress

from textual import on
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from hv_connector.errors import HvcError


def reload_key(screen: str, tooltip: str) -> Binding:
    """F5 on ``screen``: read what it shows again now (the same key on every screen that reads the store)."""
    return Binding("f5", "reload", "Reload", id=f"{screen}.reload", tooltip=tooltip)


def back_key(screen: str, tooltip: str) -> Binding:
    """Escape on ``screen``: back to the screen under it (the same key on every screen opened over another)."""
    return Binding("escape", "app.pop_screen", "Back", id=f"{screen}.back", tooltip=tooltip)


class HvcScreen(Screen[None]):
    """A screen whose workers' failures are shown, never raised: the dashboard stays up.

    Our own errors (:class:`~hv_connector.errors.HvcError`) carry a message for the person acting
    (a refusal by the policy, a field that is wrong) and show as it is; anything else shows its type too.
    """

    def __init__(self) -> None:
        super().__init__()
        # Every screen's stylesheet is read with the app's (HvcApp.CSS_PATH), so this screen is styled as it mounts.
        # Say so: otherwise the first visit to a mode restyles every widget of the app twice (Textual's _init_mode
        # and switch_mode each call refresh_css for a screen that was never styled), for nothing.
        with suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notify as Textual does, but with markup off: messages name pupils and addresses from the MIS."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def list_layout(self, *body: Widget) -> ComposeResult:
        """A list screen's widgets: the header, ``body``, a ``#status`` line (until the first load: "Loading…"), the footer."""
        yield Header()
        yield from body
        yield Static("Loading…", id="status")
        yield Footer()

    def show_status(self, text: str) -> None:
        """Put ``text`` in the list screen's ``#status`` line (under the table: counts, what is shown)."""
        self.query_one("#status", Static).update(text)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, HvcError):
            self.notify(str(error), title=type(error).__name__.removesuffix("Error") or "Refused",
                        severity="error", timeout=12)
        else:
            self.log.error(f"worker {event.worker.name} failed: {error!r}")
            self.notify(f"{type(error).__name__}: {error}", title="Something went wrong", severity="error",
                        timeout=12)
