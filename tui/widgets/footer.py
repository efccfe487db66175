"""The footer every screen shows: Textual's, with its keys mounted already styled and fitted to the terminal.

Textual's footer builds its keys again whenever the keys on offer change (each focus move, each screen shown). Each
key is made compact (its class's default) as it mounts, then made wide again by the footer's setting, restyling
itself twice for nothing: a fifth of the dashboard's time in its tests. Here each key starts with the footer's
setting, so mounting it restyles nothing more; what is drawn is the same.

Where the terminal is too narrow for every key, whole keys are left out from the right, never one cut in half or
hidden under the palette's key: a screen's own keys (first, most used first) stay, and the quit and help keys go
last (``?`` lists every key, and the palette finds every action).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey, FooterLabel  # Textual exports only the footer


class Footer(TextualFooter):
    """Textual's footer, whose keys are built with their ``compact`` already set, showing the whole keys that fit."""

    KEEP = frozenset({"quit", "help"})
    """The actions whose keys are left out last."""

    def __init__(self, *children: Widget, **options: Any) -> None:
        super().__init__(*children, **options)
        self.widths: dict[Widget, int] = {}
        """Each key's width as laid out whole, its margin included, measured once after each compose."""
        self.waits = 0
        """Refreshes waited since the last compose for the keys to be laid out (see :data:`WAITS`)."""

    WAITS = 3
    """How many refreshes :meth:`fit` waits for the keys to be laid out. A footer on a screen that is not shown is
    never laid out, and waiting on it for ever keeps the app busy; it is fitted when its screen is shown again (the
    footer is composed anew) or the terminal is resized."""

    def compose(self) -> ComposeResult:
        self.widths, self.waits = {}, 0
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The command palette's key is not bound to the footer's setting: it stays compact, as Textual has it.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        """Show the keys that fit, leaving out whole keys (a group with its label) from the right, :data:`KEEP` last."""
        for child in self.children:
            if child not in self.widths and child.display and child.outer_size.width:
                # With its margin: the group ("123456") and its label each keep a cell after them. No key has a left
                # margin to share with the right one before it, so the widths add up to the row's.
                self.widths[child] = child.outer_size.width + child.styles.margin.width
        if any(child not in self.widths for child in self.children):
            if self.waits < self.WAITS:  # not laid out yet
                self.waits += 1
                self.call_after_refresh(self.fit)
            return
        units: list[list[Widget]] = []
        palette = 0
        for child in self.children:
            if child.has_class("-command-palette"):
                palette += self.widths[child]
            elif isinstance(child, FooterLabel) and units:
                units[-1].append(child)  # a group's label ("Screens") goes with its keys
            else:
                units.append([child])
        width = [sum(self.widths[child] for child in unit) for unit in units]
        kept = [isinstance(unit[0], FooterKey) and unit[0].action in self.KEEP for unit in units]
        shown = set(range(len(units)))
        used = sum(width)
        for index in sorted(reversed(range(len(units))), key=lambda i: kept[i]):
            if used <= self.size.width - palette:
                break
            shown.discard(index)
            used -= width[index]
        for index, unit in enumerate(units):
            for child in unit:
                child.display = index in shown
