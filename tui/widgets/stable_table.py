"""A DataTable whose rows can be replaced without losing the cursor's row or the scroll position, with columns
sized to the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]
"""A row key and its cells."""
Column = tuple[str, int | None]
"""A column's label and the most cells it may take (``None``: as wide as its widest cell)."""
NARROWEST = 10
"""A column with a width limit is never squeezed below this (or its label) to fit a narrow terminal."""

Look = tuple[str, str, tuple[Any, ...]]
"""What a cell shows: its text, style and spans."""
Shown = list[tuple[str, tuple[Look, ...]]]


def look(cell: Text) -> Look:
    return cell.plain, str(cell.style), tuple(cell.spans)


def fit(natural: Sequence[int], limits: Sequence[int | None], labels: Sequence[str], room: int) -> list[int]:
    """Column widths: each at most its limit; then, until the row fits in ``room`` cells, the limited columns
    shrunk from the right (the columns come in order of what matters most), never below :data:`NARROWEST` or
    their label; the others keep their width."""
    widths = [min(n, limit) if limit else n for n, limit in zip(natural, limits, strict=True)]
    excess = sum(widths) - room
    for index in reversed(range(len(widths))):
        if excess <= 0:
            break
        if limits[index]:
            give = min(excess, max(0, widths[index] - max(NARROWEST, len(labels[index]))))
            widths[index] -= give
            excess -= give
    return widths


class StableTable(DataTable[Text]):
    """A table refreshed in place: the highlighted row stays highlighted (by key), the view stays put, and a
    change to a few cells repaints those cells only.

    :param columns: the labels and width limits of the columns.
    """

    def __init__(self, columns: Sequence[Column], **options: Any) -> None:
        super().__init__(**options)
        self.spec = list(columns)
        self.shown: Shown | None = None
        self.rows_shown: list[Row] = []
        self.widths: list[int] = []

    def on_mount(self) -> None:
        self.replace_rows([])

    def on_resize(self, event: events.Resize) -> None:
        if self.widths and self._fitted(self.rows_shown) != self.widths:
            self.shown = None  # another width: the columns are measured again
            self.replace_rows(self.rows_shown)

    def _fitted(self, rows: Sequence[Row]) -> list[int]:
        natural = [max([len(label), *(cells[index].cell_len for _, cells in rows)])
                   for index, (label, _) in enumerate(self.spec)]
        room = (self.size.width or self.app.size.width) - 2 * self.cell_padding * len(self.spec) - 1
        return fit(natural, [limit for _, limit in self.spec], [label for label, _ in self.spec], room)

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; keep the cursor on the same key if it is still there, and the scroll offset."""
        shown = [(key, tuple(look(c) for c in cells)) for key, cells in rows]
        if shown == self.shown:
            return  # nothing changed: nothing to repaint (most board ticks, a keystroke that matches the same rows)
        before, self.shown, self.rows_shown = self.shown, shown, list(rows)
        widths = self._fitted(rows)
        if before is not None and widths == self.widths and [k for k, _ in before] == [k for k, _ in shown]:
            self._update_cells(before, rows)
            return
        self.widths = widths
        selected = self.selected_key
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        keys = [key for key, _ in rows]
        # Widths are measured here, once, so no row is ever painted at a stale width, and
        # rebuilding beats updating cell by cell (re-measuring a column per cell is quadratic).
        self.clear(columns=True)
        for (label, _), width in zip(self.spec, widths, strict=True):
            self.add_column(label, width=width, key=label)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False, scroll=False)
        self.call_after_refresh(self.scroll_to, scroll_x, scroll_y, animate=False)

    def _update_cells(self, before: Shown, rows: Sequence[Row]) -> None:
        """The same rows at the same widths: only the cells that changed are replaced."""
        for (key, old), (_, cells) in zip(before, rows, strict=True):
            for (label, _), was, cell in zip(self.spec, old, cells, strict=True):
                if was != look(cell):
                    self.update_cell(key, label, cell)

    @property
    def selected_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
