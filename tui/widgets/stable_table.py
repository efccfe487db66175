"""A DataTable whose rows can be replaced without losing the cursor's row or the scroll position."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]
"""A row key and its cells."""


class StableTable(DataTable[Text]):
    """A table refreshed in place: the highlighted row stays highlighted (by key), the view stays put."""

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; keep the cursor on the same key if it is still there, and the scroll offset."""
        selected = self.selected_key
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        keys = [key for key, _ in rows]
        # Rebuilt rather than updated cell by cell: re-measuring a column per changed cell is quadratic.
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False, scroll=False)
        # Rows painted before their columns were re-measured would stay cut to the old widths.
        self.call_after_refresh(self.notify_style_update)
        self.call_after_refresh(self.scroll_to, scroll_x, scroll_y, animate=False)

    @property
    def selected_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
