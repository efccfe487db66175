"""A DataTable whose rows can be replaced without losing the cursor's row or the scroll position, with columns
sized to the terminal."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
        room: int, whole: Collection[str] = (), padding: int = 2,
        fewest: Mapping[str, int] | None = None) -> tuple[list[int], list[bool]]:
    """Column widths, and which columns show their cells' compact form (:func:`~hvc_tui.widgets.cells.compact`).

    Each column is at most its limit; then, until the row fits in ``room`` cells, the columns give way from the
    right (they come in order of what matters most): each takes its compact form if that is narrower (a date
    without its year), then, if it has a limit, shrinks, never below :data:`NARROWEST`, its label or its
    ``fewest``. A column named in ``whole`` (a pupil's name) is never cut.

    When the row cannot fit however its columns give way, what does not fit goes past the right edge, a scroll
    away: every column takes its compact form, those named in ``whole`` too (the staff without their mobiles),
    and only the columns that can then be on screen shrink, as far as they must. Shrinking the others would
    bring nothing more on screen, only cut the words of those that are.

    :param narrow: each column's width in its compact form, its label included (its ``natural`` width when it
        has none).
    :param padding: the cells each column takes besides its width.
    :param fewest: a column's label → the fewest cells it shrinks to, where its first words matter (what an
        escalation step asks).
    """
    floor = [max(NARROWEST, len(label), (fewest or {}).get(label, 0)) for label in labels]
    widths = [n if limit is None or label in whole else min(n, limit)
              for n, limit, label in zip(natural, limits, labels, strict=True)]
    shorter = [False] * len(widths)

    def least(index: int) -> int:
        """The fewest cells column ``index`` can give way to."""
        width = min(widths[index], narrow[index])
        if labels[index] in whole:
            return widths[index]
        return width if limits[index] is None else min(width, floor[index])

    if sum(least(index) + padding for index in range(len(widths))) > room:
        for index in range(len(widths)):
            if narrow[index] < widths[index]:
                widths[index], shorter[index] = narrow[index], True
    on_screen, edge = 0, 0
    while on_screen < len(widths) and edge + least(on_screen) + padding <= room:
        edge += least(on_screen) + padding
        on_screen += 1
    excess = sum(widths[:on_screen]) + padding * on_screen - room
    for index in reversed(range(on_screen)):
        if excess <= 0:
            break
        if labels[index] in whole:
            continue
        if narrow[index] < widths[index]:
            excess -= widths[index] - narrow[index]
            widths[index], shorter[index] = narrow[index], True
        if limits[index]:
            give = min(excess, max(0, widths[index] - floor[index]))
            widths[index] -= give
            excess -= give
    return widths, shorter


class StableTable(DataTable[Text]):
    """A table refreshed in place: the highlighted row stays highlighted (by key), the view stays put, and a
    change to a few cells repaints those cells only.

    :param columns: the labels and width limits of the columns, in order of what matters most.
    :param whole: the labels of the columns never cut to fit a narrow terminal (see :func:`fit`).
    :param short_labels: a column's label → its label over its cells' compact form, when that holds fewer facts
        (``Staff`` over the staff without their mobiles): a header says what its cells hold.
    :param fewest: a column's label → the fewest cells it shrinks to (see :func:`fit`).
    """

    def __init__(self, columns: Sequence[Column], whole: Collection[str] = (),
                 short_labels: Mapping[str, str] | None = None, fewest: Mapping[str, int] | None = None,
                 **options: Any) -> None:
        super().__init__(**options)
        self.spec = list(columns)
        self.whole = whole
        self.short_labels = dict(short_labels or {})
        self.fewest = dict(fewest or {})
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
            short = [self.short_labels.get(label, label) for label in labels]
            narrow = [max([len(short[index]), *(compact(cells[index]).cell_len for _, cells in rows)])
                      for index in range(len(labels))]  # measured only when the row does not fit
        return fit(natural, narrow, limits, labels, room, self.whole, padding, self.fewest)

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
        for (label, _), width, short in zip(self.spec, widths, shorter, strict=True):
            self.add_column(self.short_labels.get(label, label) if short else label, width=width, key=label)
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
