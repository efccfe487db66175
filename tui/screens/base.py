"""What every dashboard screen shares: a handler that turns a failed worker into a notification, the list layout,
the keys built from a table, and the reload and back keys.

Two bases build on :class:`HvcScreen`: :class:`ListScreen` (one table of rows) and :class:`VisitDetailScreen`
(one visit's detail, read in a worker)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Checkbox, DataTable, Header, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from hv_connector.errors import HvcError
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.messages import DetailLoaded
from hvc_tui.widgets.footer import Footer
from hvc_tui.widgets.stable_table import Column, StableTable


def keys(screen: str, *rows: tuple[str, str, str, str]) -> list[Binding]:
    """``screen``'s own keys from (key, action, label, tooltip) rows, each with the id ``screen.action``, in the footer
    (where the terminal is too narrow for every key, the footer leaves out those at the end)."""
    return [Binding(key, action, label, id=f"{screen}.{action}", tooltip=tooltip) for key, action, label, tooltip in rows]


def reload_key(screen: str, tooltip: str) -> Binding:
    """F5 on ``screen``: read what it shows again now (the same key on every screen that reads the store)."""
    return Binding("f5", "reload", "Reload", id=f"{screen}.reload", tooltip=tooltip)


LEAVE_FORM = "Leave the form? What you typed here is not saved and will be lost."
"""Asked before a form with something typed in it closes (Escape, or a screen's number key)."""


def leave_key(screen: str, tooltip: str) -> Binding:
    """Escape on a form: back to the screen under it, asking first when something has been typed."""
    return Binding("escape", "leave", "Back", id=f"{screen}.back", tooltip=tooltip)


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
        self.toasts: list[Notification] = []
        """The toasts this screen raised."""
        self.untouched: list[object] | None = None
        """A form's fields as it opened (:meth:`mark_untouched`); ``None``: not a form."""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notify as Textual does, but with markup off (messages name pupils and addresses from the MIS), and
        for this screen only: the toast goes when the person leaves the screen."""
        toast = Notification(message, title, severity, self.app.NOTIFICATION_TIMEOUT if timeout is None else timeout,
                             markup=markup)
        self.toasts.append(toast)
        self.app.post_message(Notify(toast))

    @on(events.ScreenSuspend)
    def _take_toasts_away(self) -> None:
        """Another screen takes this one's place (a dialog over it does not): its toasts go with it."""
        if isinstance(self.app.screen, ModalScreen):
            return
        shown = self.app._notifications  # Textual keeps no public way to withdraw one toast
        for toast in self.toasts:
            if toast in shown:
                self.app._unnotify(toast)
        self.toasts.clear()

    def dismiss_saying(self, message: str, *, title: str, severity: SeverityLevel = "information") -> None:
        """Close this screen and say ``message`` on the screen it goes back to, where the toast belongs."""
        below = self.app.screen_stack[-2]
        self.dismiss()
        below.notify(message, title=title, severity=severity)

    def fields(self) -> list[object]:
        """What the screen's fields hold now: each text box's text and each tick."""
        return [*(field.value for field in self.query(Input)), *(area.text for area in self.query(TextArea)),
                *(box.value for box in self.query(Checkbox))]

    def mark_untouched(self) -> None:
        """Take the fields as they stand (empty, or filled in for the person) as nothing typed yet."""
        self.untouched = self.fields()

    def typed(self) -> bool:
        """Whether anything has been typed or ticked since :meth:`mark_untouched`."""
        return self.untouched is not None and self.fields() != self.untouched

    def action_leave(self) -> None:
        """Leave the form (:func:`leave_key`): at once when nothing is typed, else once the person says so."""
        if not self.typed():
            self.dismiss()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss()
        self.app.push_screen(ConfirmDialog(LEAVE_FORM), answered)

    def list_layout(self, *body: Widget) -> ComposeResult:
        """A list screen's widgets: the header, ``body``, a ``#status`` line (until the first load: "Loading…"), the footer."""
        yield Header()
        yield from body
        yield Static("Loading…", id="status")
        yield Footer()

    def show_status(self, text: str) -> None:
        """Put ``text`` in the list screen's ``#status`` line (under the table: counts, what is shown), as written:
        it may quote a typed filter or a name, never read as markup."""
        self.query_one("#status", Static).update(Text(text))

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


class ListScreen(HvcScreen):
    """A screen of one table of rows (``COLUMNS``) over a status line: the table's id is the screen's ``list_id``,
    the table has the focus as the screen opens, and ``<list_id>.tcss`` styles the screen.

    A subclass names itself in its class line: ``class OutboxScreen(ListScreen, list_id="outbox")``.
    """

    LIST_ID: ClassVar[str]
    COLUMNS: ClassVar[tuple[Column, ...]]
    WHOLE: ClassVar[frozenset[str]] = frozenset()
    """The labels of the columns never cut to fit a narrow terminal (the pupil): the others give way first."""

    def __init_subclass__(cls, *, list_id: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.LIST_ID = list_id
        cls.CSS_PATH = f"{list_id}.tcss"
        cls.AUTO_FOCUS = f"#{list_id}"

    PANE: ClassVar[str | None] = None
    """The id of a pane under the table that says more of the highlighted row (:meth:`explain`); ``None``: none."""

    def list_table(self, **options: Any) -> StableTable:
        """The screen's table (``options`` as :class:`~textual.widgets.DataTable` takes them), rows picked whole."""
        return StableTable(self.COLUMNS, self.WHOLE, id=self.LIST_ID, cursor_type="row", **options)

    def list_layout(self, *body: Widget) -> ComposeResult:
        """As :meth:`HvcScreen.list_layout`, with the :data:`PANE` (if any) under ``body``."""
        pane = () if self.PANE is None else (Static("", id=self.PANE),)
        yield from super().list_layout(*body, *pane)

    def compose(self) -> ComposeResult:
        yield from self.list_layout(self.list_table())

    def explain(self, key: str) -> Text:
        """What the :data:`PANE` says of row ``key`` (each screen with a pane says what)."""
        return Text()

    def show_explained(self) -> None:
        """Put in the :data:`PANE` what :meth:`explain` says of the highlighted row (nothing when none is); words that
        did not change are not painted again (most board ticks)."""
        if self.PANE is None:
            return
        key = self.selected_key
        shown = Text() if key is None else self.explain(key)
        pane = self.query_one(f"#{self.PANE}", Static)
        if shown != pane.content:
            pane.update(shown)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_explained()

    @property
    def selected_key(self) -> str | None:
        """The key of the highlighted row (``None`` on an empty table)."""
        return self.query_one(StableTable).selected_key

    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Enter (or ``o``) on a row: :meth:`open_row` with its key."""
        key = self.selected_key
        if key is not None:
            self.open_row(key)

    def open_row(self, key: str) -> None:
        """Show the row ``key`` whole: by default the rows are visits, and this opens the visit's screen."""
        self.app.open_visit(key)


class VisitDetailScreen(HvcScreen):
    """A screen about one visit, ``visit_id`` (its sub-title): as it mounts, and on each ``load``, it reads the
    visit's detail in a worker; the subclass shows it on :class:`~hvc_tui.messages.DetailLoaded`."""

    def __init__(self, visit_id: str) -> None:
        super().__init__()
        self.visit_id = visit_id

    def on_mount(self) -> None:
        self.sub_title = self.visit_id
        self.load()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        self.post_message(DetailLoaded(self.app.session.detail(self.visit_id)))
