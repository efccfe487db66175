"""Ask for more time: the new expected return (London time) and a note; refuses a time it cannot read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input, Label

from hv_connector.errors import InputError
from hvc_tui.dialogs.form import FormDialog
from hvc_tui.forms import parse_time


@dataclass(frozen=True)
class Extension:
    """The new expected return and why."""

    until: datetime
    note: str


class ExtendDialog(FormDialog[Extension | None]):
    """Ask for the new expected return, offered as ``suggested`` (``HH:MM`` on ``day``, or a full date)."""

    DEFAULT_CSS = "ExtendDialog > Vertical { max-width: 80; max-height: 100%; }"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="extend.cancel", tooltip="Close, keeping the expected return"),
        Binding("ctrl+s", "confirm", "Extend", id="extend.confirm", tooltip="Move the expected return (audited)"),
    ]

    def __init__(self, title: str, suggested: str, day: date) -> None:
        super().__init__(title, confirm="Extend")
        self.suggested, self.day = suggested, day

    def fields(self) -> ComposeResult:
        yield Label("Back by (HH:MM or YYYY-MM-DD HH:MM)")
        yield Input(self.suggested, id="until", compact=True)
        yield Input(id="note", placeholder="Why (optional), e.g. parent arrived late", compact=True)
        yield Label("", id="problem")

    def on_mount(self) -> None:
        self.query_one("#until", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        try:
            until = parse_time(self.query_one("#until", Input).value, "back by", self.day)
        except InputError as exc:
            self.query_one("#problem", Label).update(Text(str(exc)))
            return
        if until is None:
            self.query_one("#problem", Label).update("back by: type the new time staff will be back.")
            return
        self.dismiss(Extension(until, self.query_one("#note", Input).value.strip()))
