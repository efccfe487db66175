"""One dialog for the decisions that take a note or a reason: authorise, decline, acknowledge.

Each warning it covers has its own tick, unticked to start: a warning is
acknowledged only by ticking it. When authorising, every warning must be ticked,
and the blocks that still stand are listed with the key that overrides them
(`v` on the visit); the dialog says what is left rather than letting the
service refuse afterwards. Enter in the text box never closes the dialog: the
button or Ctrl+S does; Escape always cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Input, Label

from hv_connector.models import Finding
from hvc_tui.dialogs.form import FormDialog
from hvc_tui.dialogs.rules import Tick, about, one_per_rule

OVERRIDE_HINT = "press v on the visit to override it"
"""How a standing block is overridden from the dashboard."""


@dataclass(frozen=True)
class Decision:
    """What the person chose: the warnings they ticked and the words they wrote."""

    rule_ids: tuple[str, ...]
    text: str


class DecisionDialog(FormDialog[Decision | None]):
    """Ask for a decision's reason or note, and a tick for each warning it acknowledges.

    :param title: what is being decided, e.g. "Authorise visit v-123".
    :param warnings: warnings the decision may acknowledge, one tick each (none ticked to start).
    :param every_warning: refuse to close until every warning is ticked (authorising needs them all).
    :param blocks: blocks that stop this decision until overridden: listed with how to override them,
        and the dialog refuses to close while they stand.
    :param later_blocks: blocks that stop a later step (sign-out): listed, so nobody is surprised then.
    :param prompt: what the text box asks for.
    :param required: refuse to close on empty text.
    :param confirm: the button's label.
    """

    DEFAULT_CSS = """
    DecisionDialog > Vertical { max-width: 110; max-height: 90%; }
    DecisionDialog #rules { height: auto; max-height: 14; }
    DecisionDialog .about { width: 1fr; padding-left: 4; }
    DecisionDialog .block { width: 1fr; }
    DecisionDialog .heading { text-style: bold; margin-top: 1; }
    DecisionDialog #problem { width: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without deciding anything"),
        Binding("ctrl+s", "confirm", "Confirm", id="dialog.confirm", tooltip="Record the decision"),
    ]

    def __init__(self, title: str, *, warnings: Sequence[Finding] = (), every_warning: bool = False,
                 blocks: Sequence[Finding] = (), later_blocks: Sequence[Finding] = (), prompt: str = "Reason",
                 required: bool = True, confirm: str = "Confirm") -> None:
        super().__init__(title, confirm=confirm)
        self.prompt, self.required = prompt, required
        self.warnings, self.every_warning = one_per_rule(warnings), every_warning
        self.blocks, self.later_blocks = one_per_rule(blocks), one_per_rule(later_blocks)

    def fields(self) -> ComposeResult:
        if self.warnings or self.blocks or self.later_blocks:
            with VerticalScroll(id="rules"):
                yield from self._rules()
        yield Label(self.prompt + (" (required)" if self.required else " (optional)"), classes="heading")
        yield Input(id="text", placeholder=self.prompt, compact=True)
        yield Label("", id="problem")

    def _rules(self) -> ComposeResult:
        if self.warnings:
            yield Label("Tick each warning you acknowledge (Space ticks)", classes="heading")
            for finding in self.warnings:
                yield Tick(finding)
                yield Label(about(finding), classes="about")
        for blocks, stops in ((self.blocks, "Stops this until overridden"), (self.later_blocks, "Stops sign-out")):
            if blocks:
                yield Label("Blocks that still stand", classes="heading")
            for finding in blocks:
                yield Label(Text.assemble("⛔ ", (finding.rule_id, "bold")), classes="block")
                yield Label(about(finding).append(f"\n{stops}: {OVERRIDE_HINT}.", style="yellow"), classes="about")

    def on_mount(self) -> None:
        ticks = self.query(Tick)
        (ticks.first() if ticks else self.query_one("#text", Input)).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        ticked = tuple(t.finding.rule_id for t in self.query(Tick) if t.value)
        problem = self._problem(ticked, text)
        if problem:
            self.query_one("#problem", Label).update(Text(problem))
            return
        self.dismiss(Decision(ticked, text))

    def _problem(self, ticked: tuple[str, ...], text: str) -> str | None:
        """Why the decision cannot be recorded as it stands, in a sentence; ``None`` when it can."""
        if self.blocks:
            names = ", ".join(f.rule_id for f in self.blocks)
            return (f"{names} still {'stands' if len(self.blocks) == 1 else 'stand'}: close this (Escape) and "
                    "press v on the visit to override each block, with its own reason.")
        left = [f.rule_id for f in self.warnings if f.rule_id not in ticked]
        if self.every_warning and left:
            return (f"Tick each warning to acknowledge it: {', '.join(left)} "
                    f"{'is' if len(left) == 1 else 'are'} not ticked yet.")
        if self.warnings and not ticked:
            return "Tick the warnings you acknowledge: none is ticked yet."
        if self.required and not text:
            return f"{self.prompt} is required: write it before confirming."
        return None
