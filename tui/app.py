"""The dashboard app: six screens as modes (pending review, live board, outbox, sync, visits, proposed visits), the visit
screen and the forms pushed on top, a help screen and a command palette that reaches them all."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerCancelled, WorkerFailed

from hvc_tui import remembered
from hvc_tui.commands import DashboardCommands
from hvc_tui.dialogs.check_in import CheckInDialog
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.extend import ExtendDialog
from hvc_tui.filters import ShowControls
from hvc_tui.screens.base import LEAVE_FORM, HvcScreen
from hvc_tui.screens.board import BoardScreen
from hvc_tui.screens.help import HelpScreen
from hvc_tui.screens.lifecycle import LifecycleScreen
from hvc_tui.screens.outbox import OutboxScreen
from hvc_tui.screens.outbox_record import OutboxRecordScreen
from hvc_tui.screens.pending import PendingScreen
from hvc_tui.screens.proposed import ProposedScreen
from hvc_tui.screens.report import ReportScreen
from hvc_tui.screens.request import RequestScreen
from hvc_tui.screens.sync import SyncScreen
from hvc_tui.screens.visit import VisitScreen
from hvc_tui.screens.visits import VisitsScreen
from hvc_tui.session import Session

BOARD_SECONDS = 5.0
"""How often the live board reads the store again."""
BROKEN_PLUGIN_SECONDS = 24 * 60 * 60.0
"""A broken policy plugin stays on screen all day: its schools' visits are checked by nobody's policy."""

STYLED_SCREENS: tuple[type[Screen[None]], ...] = (
    PendingScreen, BoardScreen, OutboxScreen, SyncScreen, VisitsScreen, ProposedScreen, VisitScreen, OutboxRecordScreen,
    RequestScreen, ReportScreen, HelpScreen,
)
"""The screens with a ``.tcss`` of their own."""


def screen_stylesheets(screens: Iterable[type[Screen[None]]]) -> list[Path]:
    """Each screen's ``CSS_PATH``, resolved beside its module as Textual resolves it."""
    return [(Path(inspect.getfile(screen)).parent / str(screen.CSS_PATH)).resolve() for screen in screens]


SHOW_CONTROLS = ShowControls()


SCREENS = Binding.Group("Screens", compact=True)
"""The number keys, one entry in the footer ("123456 Screens"): each is named in the help (?) and the palette."""


class HvcApp(App[None]):
    """The safeguarding lead's dashboard, acting as one named member of staff.

    :param session: who is acting and on which schools; every read and action goes through it.
    :param board_seconds: the live board's refresh interval.
    :param mode: the screen to open on (``pending``, ``board``, ``outbox``, ``sync``, ``visits`` or ``proposed``); by
        default the pending review for those who may authorise, the live board for everyone else (the office).
    """

    TITLE = "hv-connector"
    # Every screen's stylesheet, read once here: Textual reads a screen's CSS_PATH when the screen is first
    # shown, then re-parses every stylesheet and restyles every widget, 1-2 s per screen in the tests.
    CSS_PATH = ["app.tcss", *screen_stylesheets(STYLED_SCREENS)]
    MODES = {"pending": PendingScreen, "board": BoardScreen, "outbox": OutboxScreen, "sync": SyncScreen,
             "visits": VisitsScreen, "proposed": ProposedScreen}
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = [
        Binding("1", "go('pending')", "Pending", id="app.pending",
                tooltip="Visits waiting for a decision, most urgent first", group=SCREENS),
        Binding("2", "go('board')", "Board", id="app.board",
                tooltip="Who is out now, who is late, and the escalation chain", group=SCREENS),
        Binding("3", "go('outbox')", "Outbox", id="app.outbox",
                tooltip="Records waiting to go, and those the receiver refused", group=SCREENS),
        Binding("4", "go('sync')", "Sync", id="app.sync",
                tooltip="The last MIS sync of each school, and its quarantine", group=SCREENS),
        Binding("5", "go('visits')", "Visits", id="app.visits",
                tooltip="Every visit by its state, with what each state allows (sign out, report, close …)", group=SCREENS),
        Binding("6", "go('proposed')", "Proposed", id="app.proposed",
                tooltip="Visits proposed from attendance by the school's triggers, most urgent first", group=SCREENS),
        Binding("n", "request", "Request", id="app.request", tooltip="Ask for a new visit with the form"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help", tooltip="Every key, screen by screen"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit",
                tooltip="Leave the dashboard (asks first when leaving stops work the dashboard started)"),
    ]

    def __init__(self, session: Session, *, board_seconds: float = BOARD_SECONDS, mode: str | None = None,
                 remember: Path | None = None, quit_stops: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.board_seconds = board_seconds
        self.first_mode = mode or ("pending" if session.may_authorise() else "board")
        self.remember = remember
        """The file the chosen theme is kept in (``None``: nothing is remembered)."""
        self.quit_stops = quit_stops
        """What quitting also stops (the demo's watch and servers), said before quitting."""
        if remember is not None:
            theme = remembered.read(remember).theme
            if theme in self.available_themes:
                self.theme = theme

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then :class:`~hvc_tui.filters.ShowControls`: no text sends the terminal a control."""
        return [*super().get_line_filters(), SHOW_CONTROLS]

    def on_mount(self) -> None:
        member = self.session.member
        self.sub_title = f"{member.name} ({', '.join(member.roles)}) · {', '.join(self.session.schools)}"
        self.switch_mode(self.first_mode)
        self.show_broken_plugins()
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: Theme) -> None:
        if self.remember is not None:
            self._write_theme(self.remember, theme.name)

    @work(thread=True, exclusive=True, group="remember-theme", exit_on_error=False)
    def _write_theme(self, path: Path, name: str) -> None:
        """Keep the chosen theme for next time, off the UI thread (a slow home directory must not stall a key); a
        newer choice replaces a write not yet started, and a write that fails never takes the dashboard down."""
        try:
            remembered.write(path, remembered.Remembered(theme=name))
        except OSError as exc:
            self.call_from_thread(self.notify, f"The theme could not be remembered for next time ({exc}).",
                                  severity="warning", markup=False)

    async def action_go(self, mode: str) -> None:
        """To ``mode``'s screen itself, not a visit or form opened over it; first ask when a form on the way has
        something typed in it (as Escape on the form does)."""
        if not any(isinstance(screen, HvcScreen) and screen.typed() for screen in self.screen_stack):
            await self._go(mode)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_later(self._go, mode)
        self.push_screen(ConfirmDialog(LEAVE_FORM), answered)

    async def _go(self, mode: str) -> None:
        await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()

    async def action_quit(self) -> None:
        """Quit; first ask when quitting also stops :attr:`quit_stops`."""
        if self.quit_stops is None:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(ConfirmDialog(f"Quit the dashboard? Quitting also stops {self.quit_stops}."), answered)

    def show_broken_plugins(self) -> None:
        """A banner for each broken policy plugin: its schools, its error, and that the other schools are fine."""
        for broken in self.session.service.policies.broken():
            # The error is the plugin's own text: shown as written, never read as markup.
            self.notify(f"{broken}. Its schools' visits out are watched with the core's default chain; "
                        "the other schools work as before. Ask IT to fix it (`hvc plugins`).",
                        title="Policy plugin broken", severity="error", timeout=BROKEN_PLUGIN_SECONDS, markup=False)

    def destinations(self) -> Iterator[tuple[str, str, str]]:
        """(title, action, tooltip) of every place the app can go."""
        for binding in self.BINDINGS:
            if binding.action != "quit":
                yield binding.description, binding.action, binding.tooltip

    async def run_in_mode(self, mode: str, action: str) -> None:
        """Go to ``mode``'s screen and run ``action`` there once it has read its rows (the palette's way in)."""
        await self.switch_mode(mode)
        screen = self.screen
        for worker in [w for w in self.workers if w.node is screen]:
            with suppress(WorkerCancelled, WorkerFailed):  # replaced by a newer read, or shown as failed
                await worker.wait()
        # Queued behind the rows the screen's worker posted, so the action sees them.
        screen.call_later(screen.run_action, action)

    def open_visit(self, visit_id: str) -> None:
        self.push_screen(VisitScreen(visit_id))

    def action_request(self) -> None:
        self.push_screen(RequestScreen())

    def action_help(self) -> None:
        groups = [("Everywhere", list(self.BINDINGS))]
        groups += [(screen.TITLE or screen.__name__, list(screen.BINDINGS))
                   for screen in (*self.MODES.values(), LifecycleScreen, VisitScreen, OutboxRecordScreen, RequestScreen,
                                  ReportScreen)]
        groups += [("Dialogs", [*DecisionDialog.BINDINGS, *CheckInDialog.BINDINGS, *ExtendDialog.BINDINGS,
                                   *ConfirmDialog.BINDINGS])]
        self.push_screen(HelpScreen(groups))
