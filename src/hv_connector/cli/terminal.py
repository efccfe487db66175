"""What ``hvc`` writes to a terminal: control characters in it are shown, never obeyed.

Every command prints text from outside (pupils' names and notes from the MIS,
CPOMS's answers, plugins' messages). The sync already neutralises MIS text
before it is stored; this is the second line, for everything printed:
:func:`guarded_output` puts :class:`GuardedStream` over ``sys.stdout`` and
``sys.stderr`` for the whole run, so an ``ESC`` reaches the terminal as the
four characters ``\\x1b`` whatever the command and wherever the text came
from (a record stored by an older version included). Line breaks pass: they
are how the commands end their own lines. Log handlers get a
:class:`~hv_connector.text.NeutralisingFilter` (:func:`guard_logging`, which each command that logs
sets its logging up with), which
escapes line breaks inside a message too.

What ``hvc sync``, ``hvc push`` and ``hvc watch`` write for a log (cron's file,
journald) is timestamped line by line: their log records through
:data:`LOG_FORMAT`, their own lines through :func:`log_echo`, in one format.

Only our own progress bars write escape sequences on purpose: they write to
:func:`unguarded` ``sys.stderr``. (When the output is not a terminal, click
itself drops colour sequences before they reach the guard; MIS text is
neutralised before click sees it, so there too it shows, never vanishes.)
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from hv_connector.text import NeutralisingFilter, guard_line_output, neutralise

LOG_TIME = "%Y-%m-%d %H:%M:%S"
"""How a log line's time is written (the machine's local time, as cron and journald stamp theirs)."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""A log record's line: time, level, where it came from, the message."""


class GuardedStream(io.TextIOBase):
    """A text stream that writes to ``inner`` with every control character but ``\\n`` made visible."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes for a binary stream by writing b"": say it is not one
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.inner.write(guard_line_output(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None) or "strict"


@contextmanager
def guarded_output() -> Iterator[None]:
    """Guard ``sys.stdout`` and ``sys.stderr`` while the block runs, then put the originals back."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = GuardedStream(sys.stdout), GuardedStream(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved


def unguarded(stream: TextIO) -> TextIO:
    """The stream under a guard (for a progress bar's own escape sequences); ``stream`` if unguarded."""
    return stream.inner if isinstance(stream, GuardedStream) else stream


def guard_logging(**basic_config: Any) -> None:
    """Set logging up as :func:`logging.basicConfig` does with ``basic_config`` (nothing if it is set up
    already), then give every handler of the root logger the filter that neutralises messages.

    Every command that logs calls it: a command that did not would log through Python's last-resort
    handler, which has no filter."""
    logging.basicConfig(**({"datefmt": LOG_TIME} | basic_config))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, NeutralisingFilter) for f in handler.filters):
            handler.addFilter(NeutralisingFilter())


def log_echo(text: str, *, err: bool = False) -> None:
    """Print a line of ``hvc sync``/``push``/``watch`` output: timestamped as :data:`LOG_TIME` when it goes
    to a log (the stream is not a terminal), as it is for a person watching.

    One line, whatever the text from outside in it holds (a notifier's error, a school's failure):
    a line break in it shows as ``\\x0a``, as in a log record, and forges no log line of its own."""
    stream = sys.stderr if err else sys.stdout
    line = neutralise(text)
    click.echo(line if stream.isatty() else f"{time.strftime(LOG_TIME)} {line}", err=err)
