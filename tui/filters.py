"""The dashboard's last line of defence: no control character in any widget's text reaches the terminal.

Textual writes a widget's text to the terminal as it is, so a pupil called
``Smith ESC[2J`` would clear the screen. The screens neutralise MIS text where
they lay it out (:func:`hvc_tui.widgets.cells.literal`, :func:`hvc_tui.widgets.cells.plain`),
so it is measured as it shows; :class:`ShowControls` is applied to every line
of every widget (:meth:`hvc_tui.app.HvcApp.get_line_filters`), so text that
reaches a screen any other way (a notification, a plugin's message, a record
an older version stored) is shown with visible escapes too.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from hv_connector.text import neutralise


class ShowControls(LineFilter):
    """Each segment's text with its control characters as visible escapes (``ESC`` as ``\\x1b``)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [segment if segment.control else Segment(neutralise(segment.text), segment.style)
                for segment in segments]
