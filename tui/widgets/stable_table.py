"""A DataTable whose rows can be replaced without losing the cursor's row or the scroll position, with columns
sized to the terminal."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from hvc_tui.widgets.cells import compact

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


def fit(natural: Sequence[int], narrow: Sequence[int], limits: Sequence[int | None], labels: Sequence[str],
        room: int, whole: Collection[str] = (), padding: int = 2) -> tuple[list[int], list[bool]]:
    """Column widths, and which columns show their cells' compact form (:func:`~hvc_tui.widgets.cells.compact`).

    Each column is at most its limit; then, until the row fits in ``room`` cells, the columns give way from the
    right (they come in order of what matters most): each takes its compact form if that is narrower (a date
    without its year), then, if it has a limit, shrinks, never below :data:`NARROWEST` or its label. A column
    named in ``whole`` (a pupil's name) is never cut: it takes its compact form only when it would otherwise end
    past the right edge, and what still does not fit goes past that edge, a scroll away.

    :param narrow: each column's width in its compact form (its ``natural`` width when it has none).
    :param padding: the cells each column takes besides its width.
    """
    widths = [n if limit is None or label in whole else min(n, limit)
              for n, limit, label in zip(natural, limits, labels, strict=True)]
    narrower = [max(n, len(label)) for n, label in zip(narrow, labels, strict=True)]
    shorter = [False] * len(widths)
    excess = sum(widths) + padding * len(widths) - room
    for index in reversed(range(len(widths))):
        if excess <= 0:
            break
        if labels[index] in whole:
            continue
        if narrower[index] < widths[index]:
            excess -= widths[index] - narrower[index]
            widths[index], shorter[index] = narrower[index], True
        if limits[index]:
            give = min(excess, max(0, widths[index] - max(NARROWEST, len(labels[index]))))
            widths[index] -= give
            excess -= give
    edge = 0
    for index, label in enumerate(labels):
        edge += widths[index] + padding
        if label in whole and edge > room and narrower[index] < widths[index]:
            edge -= widths[index] - narrower[index]
            widths[index], shorter[index] = narrower[index], True
    return widths, shorter


class StableTable(DataTable[Text]):
    """A table refreshed in place: the highlighted row stays highlighted (by key), the view stays put, and a
    change to a few cells repaints those cells only.

    :param columns: the labels and width limits of the columns, in order of what matters most.
    :param whole: the labels of the columns never cut to fit a narrow terminal (see :func:`fit`).
    """

    def __init__(self, columns: Sequence[Column], whole: Collection[str] = (), **options: Any) -> None:
        super().__init__(**options)
        self.spec = list(columns)
        self.whole = whole
        self.shown: Shown | None = None
        self.rows_shown: list[Row] = []
        self.widths: list[int] = []
        self.shorter: list[bool] = []
        """Per column: its cells shown in their compact form."""

    def on_mount(self) -> None:
        self.replace_rows([])

    def on_resize(self, event: events.Resize) -> None:
        if self.widths and self._fitted(self.rows_shown) != (self.widths, self.shorter):
            self.shown = None  # another width: the columns are measured again
            self.replace_rows(self.rows_shown)

    def _fitted(self, rows: Sequence[Row]) -> tuple[list[int], list[bool]]:
        labels, limits = [label for label, _ in self.spec], [limit for _, limit in self.spec]
        natural = [max([len(label), *(cells[index].cell_len for _, cells in rows)]) for index, label in enumerate(labels)]
        room, padding = (self.size.width or self.app.size.width) - 1, 2 * self.cell_padding
        narrow = natural
        if sum(natural) + padding * len(natural) > room:
            narrow = [max([len(label), *(compact(cells[index]).cell_len for _, cells in rows)])
                      for index, label in enumerate(labels)]  # measured only when the row does not fit
        return fit(natural, narrow, limits, labels, room, self.whole, padding)

    def _cells(self, cells: Sequence[Text]) -> Sequence[Text]:
        """``cells`` as shown: in their compact form in the columns that take it."""
        if not any(self.shorter):
            return cells
        return [compact(cell) if short else cell for cell, short in zip(cells, self.shorter, strict=True)]

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; keep the cursor on the same key if it is still there, and the scroll offset."""
        shown = [(key, tuple(look(c) for c in cells)) for key, cells in rows]
        if shown == self.shown:
            return  # nothing changed: nothing to repaint (most board ticks, a keystroke that matches the same rows)
        before, self.shown, self.rows_shown = self.shown, shown, list(rows)
        widths, shorter = self._fitted(rows)
        if before is not None and (widths, shorter) == (self.widths, self.shorter) and [k for k, _ in before] == [k for k, _ in shown]:
            self._update_cells(before, rows)
            return
        self.widths, self.shorter = widths, shorter
        selected = self.selected_key
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        keys = [key for key, _ in rows]
        # Widths are measured here, once, so no row is ever painted at a stale width, and
        # rebuilding beats updating cell by cell (re-measuring a column per cell is quadratic).
        self.clear(columns=True)
        for (label, _), width in zip(self.spec, widths, strict=True):
            self.add_column(label, width=width, key=label)
        for key, cells in rows:
            self.add_row(*self._cells(cells), key=key)
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False, scroll=False)
        self.call_after_refresh(self.scroll_to, scroll_x, scroll_y, animate=False)

    def _update_cells(self, before: Shown, rows: Sequence[Row]) -> None:
        """The same rows at the same widths: only the cells that changed are replaced."""
        for (key, old), (_, cells) in zip(before, rows, strict=True):
            for (label, _), was, cell, short in zip(self.spec, old, cells, self.shorter, strict=True):
                if was != look(cell):
                    self.update_cell(key, label, compact(cell) if short else cell)

    @property
    def selected_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
