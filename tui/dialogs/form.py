"""What every form dialog shares: its heading, its confirm and cancel buttons, and cancelling."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

ResultT = TypeVar("ResultT")


class FormDialog(ModalScreen[ResultT]):
    """A modal form: the heading in bold, the subclass's :meth:`fields`, then its confirm button and Cancel.

    Escape (the subclass's ``cancel`` binding) and Cancel dismiss it with ``None``; the subclass's
    ``action_confirm`` (bound to ``ctrl+s`` and the ``#confirm`` button) dismisses it with the answer.

    :param title: what the form is about (plain text: names from the MIS are never read as markup).
    :param confirm: the confirm button's label.
    """

    # The frame composed below; each dialog sets its own max-width and max-height on ``> Vertical``.
    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > Vertical { width: 90%; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    FormDialog #problem { color: $error; }
    FormDialog Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, title: str, *, confirm: str = "Confirm") -> None:
        super().__init__()
        self.heading, self.confirm_label = title, confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.heading, style="bold"))
            yield from self.fields()
            with Horizontal():
                yield Button(self.confirm_label, id="confirm", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def fields(self) -> ComposeResult:
        """The form's own widgets, between the heading and the buttons."""
        yield from ()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(None)
