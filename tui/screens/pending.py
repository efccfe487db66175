"""Pending review: the visits waiting for a decision, most urgent first, with what the policy says."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input
from textual.worker import get_current_worker

from hvc_tui.messages import PendingLoaded
from hvc_tui.screens.base import ListScreen, keys, reload_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.stable_table import StableTable

COLUMNS = (("Starts", None), ("Pupil", None), ("Blocks", None), ("Warns", None), ("Info", None), ("Reason", 22),
           ("Address", 34), ("Visit", None), ("School", None))
"""Labels and width limits: long MIS text is cut to fit (never the pupil, :attr:`WHOLE`); the visit screen shows all
of it."""


class PendingScreen(ListScreen, list_id="pending"):
    """Visits in ``requested``: emergencies first, then soonest start; type to filter."""

    TITLE = "Pending review"
    COLUMNS = COLUMNS
    WHOLE = frozenset({"Pupil"})
    BINDINGS = [
        *keys("pending",
              ("o", "open", "Open", "Show the highlighted visit: findings by stage, briefing, risk assessment, audit trail"),
              ("slash", "filter", "Filter", "Type part of a pupil's name, an address, a reason or a visit id"),
              ("escape", "clear", "Clear filter", "Empty the filter and go back to the list")),
        reload_key("pending", "Read the pending visits again"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.list_layout(
            Input(placeholder="Filter: part of a name, address, reason or visit id", id="filter"),
            self.list_table(zebra_stripes=True),
        )

    def on_screen_resume(self) -> None:
        self.load(self.query_one("#filter", Input).value)

    @work(thread=True, exclusive=True, group="pending", exit_on_error=False)
    def load(self, text: str) -> None:
        """Read the pending visits matching ``text`` (the newest keystroke wins)."""
        page = self.app.session.pending(text)
        if not get_current_worker().is_cancelled:
            self.post_message(PendingLoaded(page, text))

    @on(PendingLoaded)
    def _show(self, message: PendingLoaded) -> None:
        table = self.query_one(StableTable)
        table.replace_rows([
            (row.visit_id, (
                cells.when(row.planned_start),
                cells.literal(("‼ " if row.emergency else "") + row.pupil_name, "bold" if row.emergency else ""),
                cells.count(row.blocks, "block"), cells.count(row.warns, "warn"), cells.count(row.infos, "info"),
                cells.literal(row.reason), cells.literal(row.address),
                cells.literal(row.visit_id), cells.literal(row.school_id),
            )) for row in message.page.rows
        ])
        shown = len(message.page.rows)
        more = f" (the first {shown} shown, more wait: filter to narrow)" if message.page.more else ""
        matching = f" matching {message.text!r}" if message.text.strip() else ""
        self.show_status(f"{shown}{'+' if message.page.more else ''} visit(s) waiting{matching}{more}")

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted, "#filter")
    def _to_table(self) -> None:
        self.query_one(StableTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(StableTable).focus()

    def action_reload(self) -> None:
        self.load(self.query_one("#filter", Input).value)
