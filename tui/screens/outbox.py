"""The outbox: records waiting to go, records to enter in CPOMS by hand or to attach in its tray (with confirm),
records the receiver refused (parked, with retry), and the records it took on request; Enter opens a record whole."""

from __future__ import annotations

from rich.text import Text
from textual import on, work

from hv_connector.outbox.entry import in_tray
from hv_connector.read.queries import OutboxRow
from hv_connector.store.rows import IN_TRAY, MAY_BE_TWICE, TO_CONFIRM
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import Decision, DecisionDialog
from hvc_tui.messages import OutboxConfirmed, OutboxLoaded, OutboxRetried
from hvc_tui.screens.base import ListScreen, keys, reload_key
from hvc_tui.screens.outbox_record import OutboxRecordScreen
from hvc_tui.widgets import cells
from hvc_tui.widgets.stable_table import StableTable

COLUMNS = (("Status", None), ("Kind", None), ("Visit", None), ("School", None), ("Tries", None), ("Next try", None),
           ("Written", None), ("Receiver said", 60))
STATUS = {"parked": ("✖ parked", "bold red"), "pending": ("… waiting", "yellow"), "sending": ("→ sending", "cyan"),
          "awaiting-entry": ("✎ to enter", "bold magenta"), "in-tray": ("⇥ to attach", "bold magenta"),
          "sent": ("✔ sent", "green")}
TWICE = ("⚠ sent, twice?", "bold yellow")
"""A record sent that the receiver may hold twice: a person must look (never colour alone)."""


def look(row: OutboxRow) -> tuple[str, str]:
    """The row's status cell: its words and style."""
    return TWICE if row.status == "sent" and row.to_check else STATUS.get(row.status, (row.status, ""))


def said(row: OutboxRow) -> str | None:
    """What the receiver said of the row, and what to do: where in CPOMS's tray, why it may be there twice (or what a
    look in CPOMS found since), or the reason it was refused or failed."""
    twice = row.checked or (f"{MAY_BE_TWICE}: {row.doubt}" if row.doubt else None)
    if row.status == IN_TRAY:  # whoever attaches it looks in the tray for a second copy too
        return in_tray(row.cpoms_id, row) + (f"; {twice}" if twice else "")
    return twice or row.last_error


class OutboxScreen(ListScreen, list_id="outbox"):
    """Records not yet delivered: parked first, then concerns, oldest first; or the latest records sent."""

    TITLE = "Outbox"
    COLUMNS = COLUMNS
    BINDINGS = [
        *keys("outbox",
              ("o", "open", "Open", "The highlighted record whole: the receiver's full reason and the text sent"),
              ("t", "retry", "Retry", "Put the highlighted parked record back in the queue for the next push"),
              ("c", "confirm_entry", "Confirm entered",
               "Record the CPOMS number of the highlighted record you entered by hand (or attached from CPOMS's "
               "tray): only then is it done"),
              ("a", "sent", "Sent/waiting", "Switch between the records waiting and the latest records the receiver took"),
              ("escape", "waiting", "Waiting", "Back to the records waiting")),
        reload_key("outbox", "Read the outbox again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[str, str] = {}
        self.sent = False
        """Listing the records sent (else those waiting)."""

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="outbox", exit_on_error=False)
    def load(self) -> None:
        sent = self.sent
        self.post_message(OutboxLoaded(self.app.session.outbox(sent=sent), sent))

    @on(OutboxLoaded)
    def _show(self, message: OutboxLoaded) -> None:
        self.statuses = {str(row.id): row.status for row in message.rows}
        rows = []
        for row in message.rows:
            words, style = look(row)
            kind = Text(row.kind + (" ‼ concern" if row.concern else ""), style="bold" if row.concern else "")
            rows.append((str(row.id), (Text(words, style=style), kind, cells.literal(row.visit_id),
                                       cells.literal(row.school_id), Text(str(row.attempts)),
                                       cells.when(row.next_attempt_at), cells.when(row.created_at),
                                       cells.literal(said(row)))))
        self.query_one(StableTable).replace_rows(rows)
        if message.sent:
            twice = sum(1 for row in message.rows if row.to_check)
            check = f", {twice} of them {MAY_BE_TWICE} (listed first)" if twice else ""
            self.show_status(f"the latest {len(message.rows)} record(s) the receiver took, newest first{check} · "
                             "a: the records waiting")
            return
        parked = sum(1 for row in message.rows if row.status == "parked")
        to_enter = sum(1 for row in message.rows if row.status == "awaiting-entry")
        to_attach = sum(1 for row in message.rows if row.status == IN_TRAY)
        attach = f"{to_attach} in CPOMS's tray to attach, " if to_attach else ""
        self.show_status(f"{len(message.rows) - parked - to_enter - to_attach} waiting, {to_enter} to enter in CPOMS, "
                         f"{attach}{parked} parked · Enter: a record whole · a: the records sent")

    def open_row(self, key: str) -> None:
        self.app.push_screen(OutboxRecordScreen(int(key)))

    def action_sent(self) -> None:
        self.sent = not self.sent
        self.load()

    def action_waiting(self) -> None:
        if self.sent:
            self.action_sent()

    def action_retry(self) -> None:
        key = self.selected_key
        if key is None:
            return
        status = self.statuses.get(key)
        if status != "parked":
            self.notify("Only a parked record can be retried; " + (
                "this one is never sent again: confirm it (c) once it is entered in CPOMS or attached from its tray."
                if status in TO_CONFIRM else "waiting ones go with the next push."), severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.retry(int(key))
        self.app.push_screen(ConfirmDialog(
            f"Send record {key} again? It goes back in the queue as a new revision of the same report, "
            "unchanged, and the next push sends it. If the receiver refused it for something in the report, it will "
            "refuse it again: correct it first with "
            f"`hvc outbox retry {key} --fixed FILE`."), answered)

    @work(thread=True, exclusive=True, group="outbox-retry", exit_on_error=False)
    def retry(self, outbox_id: int) -> None:
        self.post_message(OutboxRetried(self.app.session.retry(outbox_id)))

    @on(OutboxRetried)
    def _retried(self, message: OutboxRetried) -> None:
        self.notify(f"Record {message.record.id} is waiting again (revision with a new key).", title="Retrying")
        self.load()

    def action_confirm_entry(self) -> None:
        key = self.selected_key
        if key is None:
            return
        status = self.statuses.get(key)
        if status not in TO_CONFIRM:
            self.notify("Only a record written for entry by hand (✎ to enter) or in CPOMS's tray (⇥ to attach) is "
                        "confirmed here.", severity="warning")
            return

        def chosen(decision: Decision | None) -> None:
            if decision is not None:
                self.confirm_entered(int(key), decision.text)
        self.app.push_screen(DecisionDialog(f"Record {key} attached to the pupil in CPOMS", prompt="CPOMS incident number",
                                            required=True, confirm="Confirm attached") if status == IN_TRAY else
                             DecisionDialog(f"Record {key} entered in CPOMS", prompt="CPOMS record number",
                                            required=True, confirm="Confirm entered"), chosen)

    @work(thread=True, exclusive=True, group="outbox-confirm", exit_on_error=False)
    def confirm_entered(self, outbox_id: int, ref: str) -> None:
        self.post_message(OutboxConfirmed(self.app.session.confirm_entered(outbox_id, ref)))

    @on(OutboxConfirmed)
    def _confirmed(self, message: OutboxConfirmed) -> None:
        self.notify(f"Record {message.record.id} is done: in CPOMS as {message.record.cpoms_id}.", title="Confirmed")
        self.load()

    def action_reload(self) -> None:
        self.load()
