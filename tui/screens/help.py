"""Help: every key binding of the dashboard, screen by screen, with what it does."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def bindings_text(groups: Iterable[tuple[str, Iterable[Binding]]]) -> Text:
    """Each group's bindings: key, what it does and the longer tooltip."""
    text = Text()
    for title, bindings in groups:
        text.append(f"{title}\n", style="bold underline")
        for binding in bindings:
            text.append(f"  {binding.key_display or binding.key:<12}", style="bold cyan")
            text.append(f"{binding.description:<16}")
            text.append(f"{binding.tooltip}\n", style="dim")
        text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    """The key bindings of the app and of every screen."""

    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help")]

    def __init__(self, groups: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("hv-connector dashboard — keys (Ctrl+P: command palette)\n", style="bold"))
            yield Static(bindings_text(self.groups))

    def action_dismiss(self) -> None:
        self.dismiss()
