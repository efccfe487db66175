"""One outbox record: where it is in its delivery, the receiver's whole reason when it refused it, and the text
that was (or will be) sent."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from hv_connector import humanize
from hv_connector.outbox.entry import in_tray
from hv_connector.outbox.queue import OutboxRecord
from hv_connector.outbox.report import render
from hv_connector.store.rows import IN_TRAY, MAY_BE_TWICE
from hvc_tui.messages import OutboxRecordLoaded
from hvc_tui.screens.base import HvcScreen, back_key, reload_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.footer import Footer


def record_text(record: OutboxRecord) -> Text:
    """The record's facts, one per line; text from the receiver and the MIS as written."""
    text = Text()
    for label, value in (("Record", str(record.id)), ("Status", record.status), ("Kind", record.kind),
                         ("Concern", "yes" if record.concern else "no"), ("Visit", record.visit_id or "—"),
                         ("School", record.school_id), ("Tries", str(record.attempts)),
                         ("Written", humanize.moment(record.created_at)),
                         ("Next try", humanize.moment(record.next_attempt_at)),
                         ("Sent", humanize.moment(record.sent_at)), ("Sent as", record.cpoms_id or "—")):
        text.append(f"{label:>10}: ", style="dim")
        text.append(f"{cells.plain(value)}\n")
    if record.status == IN_TRAY:
        text.append(f"{'To do':>10}: ", style="dim")
        text.append(f"{cells.plain(in_tray(record.cpoms_id, record.report))}\n", style="bold")
    if record.doubt:
        text.append(f"{'Twice?':>10}: ", style="dim")
        text.append(f"It {MAY_BE_TWICE}: {cells.plain(record.doubt)}\n", style="bold yellow")
    return text


class OutboxRecordScreen(HvcScreen):
    """The record ``outbox_id`` (its sub-title), read in a worker as it opens."""

    CSS_PATH = "outbox_record.tcss"
    TITLE = "Outbox record"
    BINDINGS = [back_key("outbox-record", "Back to the outbox"),
                reload_key("outbox-record", "Read the record again")]

    def __init__(self, outbox_id: int) -> None:
        super().__init__()
        self.outbox_id = outbox_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Static("Loading…", id="facts")
            yield Static(id="reason", classes="section")
            yield Static(id="sent", classes="section")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.outbox_id)
        self.query_one("#reason", Static).border_title = "What the receiver said"
        self.query_one("#sent", Static).border_title = "The text sent"
        self.load()

    @work(thread=True, exclusive=True, group="outbox-record", exit_on_error=False)
    def load(self) -> None:
        self.post_message(OutboxRecordLoaded(self.app.session.outbox_record(self.outbox_id)))

    @on(OutboxRecordLoaded)
    def _show(self, message: OutboxRecordLoaded) -> None:
        record = message.record
        self.query_one("#facts", Static).update(record_text(record))
        # Both texts whole, every line: the receiver's reason and the report may run to many lines.
        self.query_one("#reason", Static).update(Text(record.last_error or "Nothing: the receiver has not refused it."))
        self.query_one("#sent", Static).update(Text(render(record.report)))

    def action_reload(self) -> None:
        self.load()
