"""Every visit by its state: waiting, authorised and not yet out, out, back with no report, reported, finished.

The one screen from which a visit in any state can be reached; the footer offers what the highlighted
visit's state allows (sign out, cancel, abort, report, close), and Enter opens it.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Select
from textual.worker import get_current_worker

from hv_connector.read.queries import PAGE
from hv_connector.visits.lifecycle import OPEN, State
from hvc_tui.messages import VisitsLoaded
from hvc_tui.screens.base import ListScreen, keys, reload_key
from hvc_tui.screens.lifecycle import LifecycleScreen
from hvc_tui.widgets import cells
from hvc_tui.widgets.stable_table import StableTable

OPEN_VISITS = "open"
"""The filter the screen opens on: every visit still open, whatever its state."""
FILTERS: tuple[tuple[str, tuple[State, ...]], ...] = (
    (OPEN_VISITS, OPEN),
    *((state.value, (state,)) for state in State),
)
"""The state filter's choices: a name and the states it shows."""
FINISHED = (State.DECLINED, State.REPORTED, State.CLOSED, State.CANCELLED, State.ABORTED)
"""States listed newest first (history); the others soonest first (what happens next)."""
COLUMNS = (("State", None), ("Starts", None), ("Pupil", None), ("Staff", None), ("Back by", None), ("Reason", 20),
           ("Visit", None), ("School", None))
"""Labels and width limits: long MIS text is cut to fit (never the pupil, :attr:`WHOLE`); the visit screen shows all
of it."""


class VisitsScreen(LifecycleScreen, ListScreen, list_id="visits"):
    """The visits of the shown schools in the chosen state(s), with the keys each one's state allows."""

    TITLE = "Visits"
    COLUMNS = COLUMNS
    WHOLE = frozenset({"Pupil", "Staff"})
    BINDINGS = [
        *keys("visits",
              ("o", "open", "Open", "Show the highlighted visit: findings, briefing, risk assessment, audit trail"),
              ("slash", "filter", "State", "Choose the state(s) listed"),
              ("escape", "clear", "All open", "Back to every open visit")),
        reload_key("visits", "Read the visits again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, State] = {}

    def compose(self) -> ComposeResult:
        choices = [("every open visit" if name == OPEN_VISITS else name, name) for name, _ in FILTERS]
        yield from self.list_layout(Select(choices, value=OPEN_VISITS, allow_blank=False, id="state", compact=True),
                                    self.list_table(zebra_stripes=True))

    @property
    def chosen(self) -> str:
        return str(self.query_one("#state", Select).value)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load(self.chosen)

    @work(thread=True, exclusive=True, group="visits", exit_on_error=False)
    def load(self, chosen: str) -> None:
        """Read the first page of visits in the ``chosen`` filter's states (the newest choice wins)."""
        states = dict(FILTERS)[chosen]
        rows = self.app.session.visits([s.value for s in states], newest_first=set(states) <= set(FINISHED))
        if not get_current_worker().is_cancelled:
            self.post_message(VisitsLoaded(rows, chosen))

    @on(VisitsLoaded)
    def _show(self, message: VisitsLoaded) -> None:
        directory = self.app.session.service.directory
        names = {school: directory.names(school) for school in {row.school_id for row in message.rows}}
        self.states = {row.visit_id: State(row.state) for row in message.rows}
        self.query_one(StableTable).replace_rows([
            (row.visit_id, (
                cells.state(row.state), cells.when(row.planned_start), cells.literal(row.pupil_name),
                cells.literal(", ".join(names[row.school_id].get(s, s) for s in row.staff_ids)),
                cells.when(row.expected_return, with_day=False), cells.literal(row.reason),
                cells.literal(row.visit_id), cells.literal(row.school_id),
            )) for row in message.rows])
        which = "open" if message.chosen == OPEN_VISITS else message.chosen
        self.show_status(f"{len(message.rows)} {which} visit(s)"
                         + (" (the first page: choose a state to narrow)" if len(message.rows) >= PAGE else ""))
        self.refresh_bindings()

    def visit_target(self) -> tuple[str, State] | None:
        key = self.selected_key
        return (key, self.states[key]) if key in self.states else None

    @on(Select.Changed, "#state")
    def _chosen(self, event: Select.Changed) -> None:
        self.load(str(event.value))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def action_filter(self) -> None:
        self.query_one("#state", Select).focus()

    def action_clear(self) -> None:
        self.query_one("#state", Select).value = OPEN_VISITS
        self.query_one(StableTable).focus()
