"""Override standing blocks: each block its own tick and its own written reason.

A block's reason box opens when its tick is ticked; the dialog refuses to close
while a ticked block has no reason, or while nothing is ticked. Enter in a
reason box never closes it: the button or Ctrl+S does; Escape always cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label

from hv_connector.models import Finding
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.form import FormDialog
from hvc_tui.dialogs.rules import Tick, about, one_per_rule


@dataclass(frozen=True)
class Override:
    """One block overridden, and why."""

    rule_id: str
    reason: str


class OverrideDialog(FormDialog[tuple[Override, ...] | None]):
    """Ask which blocks to override, and why each one.

    :param title: what is being decided, e.g. "Override blocks on visit v-123".
    :param blocks: the blocks that stand, one tick and one reason box each (none ticked to start).
    """

    DEFAULT_CSS = """
    OverrideDialog > Vertical { max-width: 110; max-height: 90%; }
    OverrideDialog #blocks { height: auto; max-height: 16; }
    OverrideDialog .about { width: 1fr; padding-left: 4; }
    OverrideDialog .reason { margin-left: 4; width: 1fr; }
    OverrideDialog .heading { text-style: bold; margin-top: 1; }
    OverrideDialog #problem { width: 1fr; }
    """
    BINDINGS = DecisionDialog.BINDINGS  # the same keys mean the same in every decision dialog

    def __init__(self, title: str, *, blocks: Sequence[Finding]) -> None:
        super().__init__(title, confirm="Override")
        self.blocks = one_per_rule(blocks)
        self.reasons = {f.rule_id: Input(placeholder=f"Why {f.rule_id} may be overridden", disabled=True,
                                         compact=True, classes="reason") for f in self.blocks}

    def fields(self) -> ComposeResult:
        yield Label("Tick each block you override (Space ticks) and write its own reason", classes="heading")
        with VerticalScroll(id="blocks"):
            for finding in self.blocks:
                yield Tick(finding)
                yield Label(about(finding), classes="about")
                yield self.reasons[finding.rule_id]
        yield Label("", id="problem")

    def on_mount(self) -> None:
        ticks = self.query(Tick)
        if ticks:
            ticks.first().focus()

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        if not isinstance(event.checkbox, Tick):
            return
        reason = self.reasons[event.checkbox.finding.rule_id]
        reason.disabled = not event.value
        if event.value:
            reason.focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        chosen = tuple(Override(t.finding.rule_id, self.reasons[t.finding.rule_id].value.strip())
                       for t in self.query(Tick) if t.value)
        problem = None
        if not chosen:
            problem = "Tick the blocks you override: none is ticked yet."
        elif missing := [o.rule_id for o in chosen if not o.reason]:
            problem = f"Write why {', '.join(missing)} may be overridden: each ticked block needs its own reason."
        if problem:
            self.query_one("#problem", Label).update(Text(problem))
            return
        self.dismiss(chosen)
