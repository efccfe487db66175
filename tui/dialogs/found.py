"""What a person found in CPOMS when they looked for a second copy of a record that may be there twice.

Nothing is chosen to start, and nothing is chosen for the person: Space (or a click) picks the option under the
cursor, Enter picks nothing, and confirming with nothing picked says so rather than closing. Escape cancels.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Label, RadioButton, RadioSet

from hv_connector.store.rows import DoubtFound
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.form import FormDialog
from hvc_tui.widgets import cells

OPTIONS: tuple[tuple[DoubtFound, str], ...] = (
    ("one", "One copy: only one was in CPOMS"),
    ("two", "Two, merged: there were two, and I merged or removed the extra one in CPOMS"),
)
"""Each answer and how the dialog offers it, in the order shown."""


class Options(RadioSet, inherit_bindings=False):
    """A radio set on which Enter picks nothing: a habitual Enter must not say what CPOMS held."""

    BINDINGS = [
        Binding("down,right", "next_button", "Next", show=False, id="found.next", tooltip="The next answer"),
        Binding("up,left", "previous_button", "Previous", show=False, id="found.previous",
                tooltip="The answer before"),
        Binding("space", "toggle_button", "Pick", show=False, id="found.pick", tooltip="Pick the answer under the cursor"),
    ]


class FoundDialog(FormDialog[DoubtFound | None]):
    """Ask what CPOMS held of record ``outbox_id``: one copy, or two with the extra one merged.

    :param outbox_id: the record checked.
    :param doubt: why it may be there twice, as the receiver said it (shown as written, never as markup).
    """

    DEFAULT_CSS = """
    FoundDialog > Vertical { max-width: 90; max-height: 90%; }
    FoundDialog #doubt { width: 1fr; margin-bottom: 1; }
    FoundDialog Options { width: 1fr; }
    FoundDialog #problem { width: 1fr; }
    """
    BINDINGS = DecisionDialog.BINDINGS  # the same keys mean the same in every decision dialog

    def __init__(self, outbox_id: int, doubt: str) -> None:
        super().__init__(f"Record {outbox_id}: what did you find in CPOMS?", confirm="Record what I found")
        self.doubt = doubt

    def fields(self) -> ComposeResult:
        yield Label(cells.literal(self.doubt), id="doubt")  # measured as it shows: control characters escaped
        with Options():
            for _found, words in OPTIONS:
                yield RadioButton(Text(words))
        yield Label("", id="problem")

    def on_mount(self) -> None:
        self.query_one(Options).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        picked = self.query_one(Options).pressed_index  # -1: nothing picked
        if picked < 0:
            self.query_one("#problem", Label).update(Text("Pick what you found (Space picks): nothing is picked yet."))
            return
        self.dismiss(OPTIONS[picked][0])
