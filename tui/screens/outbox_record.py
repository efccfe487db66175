"""One outbox record: where it is in its delivery, the receiver's whole reason when it refused it, and the text
that was (or will be) sent; for a record that may be in CPOMS twice, the key to say what a look in CPOMS found."""

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
from hv_connector.read.queries import twice_said
from hv_connector.store.rows import IN_TRAY, DoubtFound
from hvc_tui.dialogs.found import FoundDialog
from hvc_tui.messages import OutboxRecordLoaded, OutboxTwiceChecked
from hvc_tui.screens.base import HvcScreen, back_key, keys, reload_key
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
    twice = twice_said(record)
    if twice:
        text.append(f"{'Twice?':>10}: ", style="dim")
        text.append(f"{cells.plain(twice)}\n", style="" if record.checked else "bold yellow")
    return text


class OutboxRecordScreen(HvcScreen):
    """The record ``outbox_id`` (its sub-title), read in a worker as it opens."""

    CSS_PATH = "outbox_record.tcss"
    TITLE = "Outbox record"
    BINDINGS = [back_key("outbox-record", "Back to the outbox"),
                *keys("outbox-record", ("k", "checked", "Checked in CPOMS",
                                        "Say what you found in CPOMS for a record that may be there twice: one copy, "
                                        "or two and you merged them (offered only for such a record)")),
                reload_key("outbox-record", "Read the record again")]

    def __init__(self, outbox_id: int) -> None:
        super().__init__()
        self.outbox_id = outbox_id
        self.record: OutboxRecord | None = None
        """The record as last read (``None`` until it is)."""

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
        self.record = record = message.record
        self.query_one("#facts", Static).update(record_text(record))
        # Both texts whole, every line: the receiver's reason and the report may run to many lines.
        self.query_one("#reason", Static).update(Text(record.last_error or "Nothing: the receiver has not refused it."))
        self.query_one("#sent", Static).update(Text(render(record.report)))
        self.refresh_bindings()  # the check is offered only while the record waits for one

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer the check only for a record that may be in CPOMS twice and that nobody has checked."""
        return action != "checked" or (self.record is not None and self.record.to_check)

    def action_checked(self) -> None:
        record = self.record
        if record is None or not record.to_check or record.doubt is None:
            return

        def found(answer: DoubtFound | None) -> None:
            if answer is not None:
                self.check(record.id, answer)
        self.app.push_screen(FoundDialog(record.id, record.doubt), found)

    @work(thread=True, exclusive=True, group="outbox-checked", exit_on_error=False)
    def check(self, outbox_id: int, found: DoubtFound) -> None:
        self.post_message(OutboxTwiceChecked(self.app.session.check_doubt(outbox_id, found)))

    @on(OutboxTwiceChecked)
    def _checked(self, message: OutboxTwiceChecked) -> None:
        self.notify(f"Record {message.record.id} is {message.record.checked}.", title="Checked in CPOMS")
        self.load()

    def action_reload(self) -> None:
        self.load()
