"""Text from outside is data: make it safe to store and to show on a terminal.

A name or a note from the MIS (or a CPOMS answer, or a plugin's message) can
hold terminal control sequences: ``ESC[2J`` clears the screen, ``ESC[8m``
hides what follows, an OSC 8 sequence turns a name into a live link, a
newline forges a line of its own, a bidi override (U+202E) reverses what a
reader sees. :func:`neutralise` shows every such character as a visible escape
(``\\x1b``, ``\\x0a``, ``\\u202e``) instead of passing it on or dropping it
silently, so a reader sees that the record holds something odd.

What is neutralised (:func:`is_control` says the same, one character at a time):

- every C0 control, U+0000–U+001F, **tab and newline included**: a tab shifts
  columns and a newline splits a line, and no single MIS field needs either on
  a screen (a note's line breaks show as ``\\x0a``);
- DEL and every C1 control, U+007F–U+009F (U+009B is a one-byte CSI);
- the line and paragraph separators U+2028 and U+2029;
- the bidi controls: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069;
- lone surrogates (U+D800–U+DFFF), which no terminal can be sent.

Everything else (accents, other scripts, emoji with their joiners) is left
as it is. The escapes are printable, so :func:`neutralise` is idempotent.

The sync neutralises every MIS text field before it is stored
(:mod:`hv_connector.sync.records`); the CLI, the logs and the dashboard
neutralise again on the way out (:func:`guard_line_output` keeps the
line breaks the program writes itself).
"""

from __future__ import annotations

import logging
import re

_OTHER_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_ANY_CONTROL = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_CONTROLS}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """``text`` with every control character shown as a visible escape (``ESC`` becomes ``\\x1b``)."""
    # The common case, nothing to copy: printable ASCII (tested in C, no regex) holds no control at all.
    if text.isascii() and text.isprintable() or _ANY_CONTROL.search(text) is None:
        return text
    return _ANY_CONTROL.sub(_visible, text)


def guard_line_output(text: str) -> str:
    """Like :func:`neutralise`, but keep newlines: for output a program writes line by line."""
    if _CONTROL_BUT_NEWLINE.search(text) is None:
        return text
    return _CONTROL_BUT_NEWLINE.sub(_visible, text)


def json_output(document: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) with every control character but the
    layout's newlines written as a JSON ``\\uXXXX`` escape: the same data for a parser, inert on a screen."""
    return _CONTROL_BUT_NEWLINE.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


def is_control(char: str) -> bool:
    """Whether :func:`neutralise` escapes ``char`` (a single character)."""
    return _ANY_CONTROL.fullmatch(char) is not None


class NeutralisingFilter(logging.Filter):
    """A handler filter that neutralises each record's message, its arguments merged in, and its traceback.

    Added to every handler ``hvc`` sets up, so a pupil's name in a log line can neither act on the
    terminal that tails the log nor forge a line of its own (a newline shows as ``\\x0a``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = neutralise(message)
        if safe is not message:
            record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            # The traceback ends with the exception's own text (a CPOMS answer, a notifier's error): formatted
            # here, so every formatter reuses it, with its control characters shown (its line breaks are its layout).
            record.exc_text = guard_line_output(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
