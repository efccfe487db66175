"""Record a check-in with staff who are out: how the contact came, the code word, concerns, what they report
from the home (parents not there, minutes waited, an animal loose, going in, an emergency), a note."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Checkbox, Input, Select

from hv_connector.models.visit import CheckInKind
from hvc_tui.dialogs.form import FormDialog

KIND_LABELS = {"staff-call": "Staff phoned in", "office-call": "Office phoned staff", "arrived": "Arrived at the home",
               "left-home": "Left the home", "home-safe": "Home safe", "interruption": "Interrupted / cut short"}
"""Each check-in kind as the office would say it (every kind the model knows)."""


@dataclass(frozen=True)
class CheckInEntry:
    """What the office recorded about one contact."""

    kind: str
    code_word_used: bool
    concerns: bool
    note: str
    door: dict[str, Any] = field(default_factory=dict)
    """What staff reported from the home, as check-in fields (only what they said)."""


class CheckInDialog(FormDialog[CheckInEntry | None]):
    """Ask how the contact went. The code word box says only "code word used": never the word itself."""

    DEFAULT_CSS = "CheckInDialog > Vertical { max-width: 80; max-height: 100%; }"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="check_in.cancel", tooltip="Close without recording a check-in"),
        Binding("ctrl+s", "confirm", "Record", id="check_in.confirm", tooltip="Record the check-in (audited)"),
    ]

    def __init__(self, title: str, kind: str = "staff-call") -> None:
        super().__init__(title, confirm="Record")
        self.kind = kind

    def fields(self) -> ComposeResult:
        yield Select([(KIND_LABELS[k], k) for k in get_args(CheckInKind)], value=self.kind, allow_blank=False,
                     id="kind", compact=True)
        yield Checkbox("Code word used (staff need help now)", id="code_word_used", compact=True)
        yield Checkbox("Concerns raised", id="concerns", compact=True)
        yield Checkbox("Parents / carer not there", id="parents_absent", compact=True)
        yield Input(id="waited", type="integer", placeholder="Minutes waited at the door (optional)",
                    compact=True)
        yield Checkbox("A dangerous animal is not shut away", id="animal_loose", compact=True)
        yield Checkbox("Gone into the home", id="entered_home", compact=True)
        yield Checkbox("Emergency (e.g. a child alone and at risk)", id="emergency", compact=True)
        yield Input(id="note", placeholder="Note (optional), e.g. staying 20 more minutes", compact=True)

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(CheckInEntry(str(self.query_one("#kind", Select).value),
                                  self.query_one("#code_word_used", Checkbox).value,
                                  self.query_one("#concerns", Checkbox).value,
                                  self.query_one("#note", Input).value.strip(),
                                  self._door()))

    def _door(self) -> dict[str, Any]:
        """Only what was ticked or filled in: an unticked box says nothing (not "parents were there")."""
        def ticked(box: str) -> bool:
            return self.query_one(f"#{box}", Checkbox).value

        waited = self.query_one("#waited", Input).value.strip().lstrip("+")
        said: dict[str, Any] = {"parents_present": False if ticked("parents_absent") else None,
                                "waited_minutes": int(waited) if waited.isdigit() else None,
                                "animals_secured": False if ticked("animal_loose") else None,
                                "entered_home": True if ticked("entered_home") else None,
                                "emergency": True if ticked("emergency") else None}
        return {name: value for name, value in said.items() if value is not None}
