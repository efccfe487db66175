"""Sync status: the last MIS sync of each school, and the records it set aside (quarantine)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Header, Label

from hvc_tui.messages import SyncLoaded
from hvc_tui.screens.base import HvcScreen, keys, reload_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.footer import Footer
from hvc_tui.widgets.stable_table import StableTable

RUN_COLUMNS = (("School", None), ("Status", None), ("Finished", None), ("Added", None), ("Updated", None),
               ("Archived", None), ("Quarantined", None), ("Message", 50))
NO_QUARANTINE = "No records in quarantine: the MIS's last syncs sent nothing that could not be used."
QUARANTINE_COLUMNS = (("School", None), ("Resource", None), ("Record", 24), ("Last seen", None), ("Reason", 60))


class SyncScreen(HvcScreen):
    """The last run per school and the open quarantine."""

    CSS_PATH = "sync.tcss"
    AUTO_FOCUS = "#runs"
    TITLE = "MIS sync"
    BINDINGS = [
        *keys("sync", ("s", "sync_now", "Sync now",
                       "Sync the schools shown from their MIS now, as `hvc sync` does (those who may authorise)")),
        reload_key("sync", "Read the sync status again"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Last sync per school", classes="heading")
        yield StableTable(RUN_COLUMNS, id="runs", cursor_type="row")
        yield Label("Quarantine: records the MIS sent that could not be used", classes="heading")
        yield StableTable(QUARANTINE_COLUMNS, id="quarantine", cursor_type="row")
        yield Label(NO_QUARANTINE, id="no-quarantine")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def load(self) -> None:
        self.post_message(SyncLoaded(*self.app.session.sync_status()))

    @on(SyncLoaded)
    def _show(self, message: SyncLoaded) -> None:
        runs = []
        for run in message.runs:
            ok = run.status == "ok"
            status = Text(("✔ " if ok else "✖ ") + run.status, style="green" if ok else "bold red")
            runs.append((run.school_id, (
                cells.literal(run.school_id), status,
                cells.when(run.finished_at), Text(str(run.added)), Text(str(run.updated)), Text(str(run.archived)),
                Text(str(run.quarantined)), cells.literal(run.message))))
        self.query_one("#runs", StableTable).replace_rows(runs)
        self.query_one("#quarantine", StableTable).replace_rows([
            (str(row.id), (cells.literal(row.school_id), cells.literal(row.resource), cells.literal(row.record_id),
                           cells.when(row.last_seen_at), cells.literal(row.reason)))
            for row in message.quarantine])
        self.query_one("#quarantine").display = bool(message.quarantine)
        self.query_one("#no-quarantine").display = not message.quarantine

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer "sync now" only to those who may sync."""
        return action != "sync_now" or self.app.session.may_sync

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def action_sync_now(self) -> None:
        """Sync now; say how each school went, then show the new status."""
        results = self.app.session.sync_now()
        said = "; ".join(f"{r.school_id} {r.status}: {r.added} added, {r.updated} updated, {r.quarantined} quarantined"
                         + (f" ({r.message})" if r.message else "") for r in results)
        failed = any(r.status != "ok" for r in results)
        # A school's message may quote the MIS: one line, its control characters shown, as everywhere else.
        self.app.call_from_thread(self.notify, cells.plain(said) if said else "No school to sync.", title="MIS sync",
                                  severity="error" if failed else "information")
        self.post_message(SyncLoaded(*self.app.session.sync_status()))

    def action_reload(self) -> None:
        self.load()
