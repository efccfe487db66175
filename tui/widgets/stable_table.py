"""A DataTable whose rows can be replaced without losing the cursor's row or the scroll position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]
"""A row key and its cells."""
Column = tuple[str, int | None]
"""A column's label and the most cells it may take (``None``: as wide as its widest cell)."""


class StableTable(DataTable[Text]):
    """A table refreshed in place: the highlighted row stays highlighted (by key), the view stays put.

    :param columns: the labels and width limits of the columns.
    """

    def __init__(self, columns: Sequence[Column], **options: Any) -> None:
        super().__init__(**options)
        self.spec = list(columns)
        self.shown: list[tuple[str, tuple[tuple[str, str, tuple[Any, ...]], ...]]] | None = None

    def on_mount(self) -> None:
        self.replace_rows([])

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; keep the cursor on the same key if it is still there, and the scroll offset."""
        shown = [(key, tuple((c.plain, str(c.style), tuple(c.spans)) for c in cells)) for key, cells in rows]
        if shown == self.shown:
            return  # nothing changed: nothing to repaint (most board ticks, a keystroke that matches the same rows)
        self.shown = shown
        selected = self.selected_key
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        keys = [key for key, _ in rows]
        # Widths are measured here, once, so no row is ever painted at a stale width, and
        # rebuilding beats updating cell by cell (re-measuring a column per cell is quadratic).
        self.clear(columns=True)
        for index, (label, limit) in enumerate(self.spec):
            width = max([len(label), *(cells[index].cell_len for _, cells in rows)])
            self.add_column(label, width=min(width, limit) if limit else width)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False, scroll=False)
        self.call_after_refresh(self.scroll_to, scroll_x, scroll_y, animate=False)

    @property
    def selected_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
