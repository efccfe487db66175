"""How values become table cells: MIS text kept literal, times on the London clock, states with a symbol.

``DataTable`` reads a plain ``str`` cell as console markup, so a pupil called
``[bold red]Test[/]`` would turn red and lose its brackets. Every value that
came from the MIS or from staff goes through :func:`literal` (a cell) or
:func:`plain` (a piece of a longer text), which also show its control
characters as visible escapes (``ESC`` as ``\\x1b``), so the layout measures the
text as it will show.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text

from hv_connector import humanize
from hv_connector.text import neutralise
from hv_connector.visits.lifecycle import State

_S = State
STATE_LOOK: dict[State, tuple[str, str]] = {
    _S.SIGNED_OUT: ("● out", "green"),
    _S.OVERDUE: ("▲ OVERDUE", "bold yellow"),
    _S.ESCALATED: ("‼ ESCALATED", "bold white on red"),
    _S.REQUESTED: ("? requested", ""),
    _S.AUTHORISED: ("✔ authorised", "green"),
    _S.DECLINED: ("✖ declined", "red"),
    _S.RETURNED: ("⌂ returned", "cyan"),
    _S.REPORTED: ("✎ reported", ""),
    _S.CLOSED: ("■ closed", "dim"),
    _S.CANCELLED: ("⊘ cancelled", "dim"),
    _S.ABORTED: ("⊘ aborted", "dim"),
}
"""Visit state → (symbol and word, style): never colour alone. A ``str`` enum, so a row's stored value finds it."""

SEVERITY_LOOK: dict[str, tuple[str, str]] = {
    "block": ("✖ BLOCK", "bold red"),
    "warn": ("▲ WARN", "yellow"),
    "info": ("ℹ info", "blue"),
}


def literal(value: object, style: str = "") -> Text:
    """``value`` as text exactly as written (never markup, control characters shown); ``—`` for nothing."""
    if value is None or value == "":
        return Text("—", style="dim")
    return Text(plain(value), style=style)


def plain(value: object) -> str:
    """``value`` as one line of plain text: control characters (a newline too) as visible escapes."""
    return neutralise(str(value))


class Shortened(Text):
    """A cell with a compact form for a column too narrow for it, the same facts in fewer cells (a date without its
    year): made only when a table asks for it (:func:`compact`).

    :param shorter: makes the compact form.
    """

    def __init__(self, text: str = "", *, shorter: Callable[[], Text], style: str = "") -> None:
        super().__init__(text, style=style)
        self.shorter = shorter


def compact(cell: Text) -> Text:
    """``cell`` in its compact form (a :class:`Shortened` cell's), or as it is when it has none."""
    return cell.shorter() if isinstance(cell, Shortened) else cell


def when(moment: datetime | None, *, with_day: bool = True) -> Text:
    """A time on the London wall clock: ``Mon 23 Nov 2026 10:00`` (or ``10:00``), as :mod:`~hv_connector.humanize` writes it;
    ``Mon 23 Nov 10:00`` in a column too narrow for the year."""
    if moment is None:
        return Text(humanize.NOTHING, style="dim")
    if not with_day:
        return Text(humanize.time_of_day(moment))
    return Shortened(humanize.moment(moment), shorter=lambda: Text(humanize.moment(moment, year=False)))


def state(value: str) -> Text:
    """A visit state with its symbol and colour."""
    words, style = STATE_LOOK.get(value, (value, ""))
    return Text(words, style=style)


def count(value: int, severity: str) -> Text:
    """A block/warn/info count: the number, styled only when there is something to see."""
    if not value:
        return Text("0", style="dim")
    symbol, style = SEVERITY_LOOK[severity]
    return Text(f"{symbol.split()[0]} {value}", style=style)


def severity(value: str) -> Text:
    symbol, style = SEVERITY_LOOK.get(value, (value, ""))
    return Text(symbol, style=style)
