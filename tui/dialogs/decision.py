"""One dialog for every decision on a visit: authorise, decline, override, acknowledge.

It lists the rules the decision is about (warnings to acknowledge, blocks to
override) as a checklist, and asks for a reason or a note. When the reason is
required, the dialog will not close on an empty one; Escape always cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList
from textual.widgets.selection_list import Selection

from hv_connector.models import Finding


@dataclass(frozen=True)
class Decision:
    """What the person chose: the rules ticked and the words they wrote."""

    rule_ids: tuple[str, ...]
    text: str


class DecisionDialog(ModalScreen[Decision | None]):
    """Ask for a decision's rules and reason.

    :param title: what is being decided, e.g. "Authorise visit v-123".
    :param rules: findings the decision covers, shown as a checklist (all ticked to start).
    :param prompt: what the text box asks for.
    :param required: refuse to close on empty text.
    :param confirm: the button's label.
    """

    DEFAULT_CSS = """
    DecisionDialog { align: center middle; }
    DecisionDialog > Vertical { width: 90%; max-width: 110; height: auto; max-height: 90%;
                                border: thick $accent; background: $surface; padding: 1 2; }
    DecisionDialog SelectionList { height: auto; max-height: 12; }
    DecisionDialog #problem { color: $error; }
    DecisionDialog Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without deciding anything"),
        Binding("ctrl+s", "confirm", "Confirm", id="dialog.confirm", tooltip="Record the decision"),
    ]

    def __init__(self, title: str, *, rules: Sequence[Finding] = (), prompt: str = "Reason",
                 required: bool = True, confirm: str = "Confirm") -> None:
        super().__init__()
        self.heading, self.rules, self.prompt = title, list(rules), prompt
        self.required, self.confirm_label = required, confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.heading, style="bold"))
            if self.rules:
                yield SelectionList[str](*(
                    Selection(Text(f"{f.rule_id} — {f.message} ({f.clause})"), f.rule_id, True) for f in self.rules
                ), id="rules")
            yield Label(self.prompt + (" (required)" if self.required else " (optional)"))
            yield Input(id="text", placeholder=self.prompt)
            yield Label("", id="problem")
            with Horizontal():
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#text")
    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        chosen: tuple[str, ...] = ()
        if self.rules:
            chosen = tuple(self.query_one("#rules", SelectionList).selected)
        if self.required and not text:
            self.query_one("#problem", Label).update(f"{self.prompt} is required: write it before confirming.")
            return
        self.dismiss(Decision(chosen, text))
