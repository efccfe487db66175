"""The footer every screen shows: Textual's, but its keys mount already styled.

Textual's footer builds its keys again whenever the keys on offer change (each focus move, each screen shown). Each
key is made compact (its class's default) as it mounts, then made wide again by the footer's setting, restyling
itself twice for nothing: a fifth of the dashboard's time in its tests. Here each key starts with the footer's
setting, so mounting it restyles nothing more; what is drawn is the same.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey  # the keys' class: Textual exports only the footer


class Footer(TextualFooter):
    """Textual's footer, whose keys are built with their ``compact`` already set."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The command palette's key is not bound to the footer's setting: it stays compact, as Textual has it.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
