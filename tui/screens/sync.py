"""Sync status: the last MIS sync of each school, and the records it set aside (quarantine)."""

from __future__ import annotations

from hvc_tui.messages import SyncLoaded
from hvc_tui.screens.base import HvcScreen
from hvc_tui.widgets import cells
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Label


class SyncScreen(HvcScreen):
    """The last run per school and the open quarantine."""

    CSS_PATH = "sync.tcss"
    AUTO_FOCUS = "#runs"
    TITLE = "MIS sync"
    BINDINGS = [Binding("f5", "reload", "Reload", id="sync.reload", tooltip="Read the sync status again")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Last sync per school", classes="heading")
        yield DataTable(id="runs", cursor_type="row")
        yield Label("Quarantine: records the MIS sent that could not be used", classes="heading")
        yield DataTable(id="quarantine", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).add_columns("School", "Status", "Finished", "Added", "Updated",
                                                       "Archived", "Quarantined", "Message")
        self.query_one("#quarantine", DataTable).add_columns("School", "Resource", "Record", "Last seen", "Reason")

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def load(self) -> None:
        self.post_message(SyncLoaded(*self.app.session.sync_status()))

    @on(SyncLoaded)
    def _show(self, message: SyncLoaded) -> None:
        runs = self.query_one("#runs", DataTable)
        runs.clear()
        for run in message.runs:
            ok = run.status == "ok"
            runs.add_row(cells.literal(run.school_id), Text(("✔ " if ok else "✖ ") + run.status,
                                                            style="green" if ok else "bold red"),
                         cells.when(run.finished_at), Text(str(run.added)), Text(str(run.updated)),
                         Text(str(run.archived)), Text(str(run.quarantined)), cells.literal(run.message))
        held = self.query_one("#quarantine", DataTable)
        held.clear()
        for row in message.quarantine:
            held.add_row(cells.literal(row.school_id), cells.literal(row.resource), cells.literal(row.record_id),
                         cells.when(row.last_seen_at), cells.literal(row.reason))

    def action_reload(self) -> None:
        self.load()
