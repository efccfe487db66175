"""Whatever an ``hvc`` command prints to a terminal, and from wherever the text came, control characters reach it
as visible escapes; the line breaks the command writes itself still break lines."""

from __future__ import annotations

import io
import sys

import click
import pytest

from hv_connector.cli.terminal import guarded_output, unguarded


class Terminal(io.StringIO):
    """What a terminal would be sent (click strips colour codes only when the output is not a terminal)."""

    def isatty(self) -> bool:
        return True


def test_echoed_text_is_guarded_on_stdout_and_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with guarded_output():
        click.echo("Eve Smith\x1b[2J\x1b[31m\u202e — quarantined")
        click.echo("hvc: plugin says \x1b]8;;https://evil.example/\x07hello\nnext line", err=True)
        assert unguarded(sys.stderr) is err
    assert out.getvalue() == "Eve Smith\\x1b[2J\\x1b[31m\\u202e — quarantined\n"
    assert err.getvalue() == "hvc: plugin says \\x1b]8;;https://evil.example/\\x07hello\nnext line\n"
    assert sys.stdout is out and sys.stderr is err  # put back after the run
