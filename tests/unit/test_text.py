"""Text from outside reaches a screen as data: control characters show as visible escapes, never act."""

from __future__ import annotations

import io
import json
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hv_connector.text import NeutralisingFilter, guard_line_output, is_control, json_output, neutralise

BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def dangerous(char: str) -> bool:
    """The spec, written apart from the module's pattern: Cc, Cs, Zl, Zp and the bidi controls."""
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in BIDI


@given(st.text())
def test_the_output_holds_no_control_character(text: str) -> None:
    assert not any(dangerous(c) for c in neutralise(text))


@given(st.text())
def test_neutralising_twice_changes_nothing_more(text: str) -> None:
    once = neutralise(text)
    assert neutralise(once) == once


@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=BIDI)))
def test_printable_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text
    assert guard_line_output(text) == text


@given(st.characters())
def test_is_control_agrees_with_the_spec(char: str) -> None:
    assert is_control(char) == dangerous(char)


@given(st.text())
def test_output_guard_keeps_only_line_breaks(text: str) -> None:
    guarded = guard_line_output(text)
    assert not any(dangerous(c) for c in guarded if c != "\n")
    assert guarded.split("\n") == [neutralise(line) for line in text.split("\n")]


@pytest.mark.parametrize(("hostile", "shown"), [
    ("Smith\x1b[2J\x1b[31m", "Smith\\x1b[2J\\x1b[31m"),
    ("\x1b]8;;https://evil.example/\x1b\\Ada\x1b]8;;\x1b\\", "\\x1b]8;;https://evil.example/\\x1b\\Ada\\x1b]8;;\\x1b\\"),
    ("Ada\x1b[8m", "Ada\\x1b[8m"),
    ("Ada\nForged line", "Ada\\x0aForged line"),
    ("Ada \u202eredro truoc", "Ada \\u202eredro truoc"),
    ("Zoë Ó Súilleabháin 🧑‍🏫", "Zoë Ó Súilleabháin 🧑‍🏫"),
])
def test_hostile_names_are_shown_not_obeyed(hostile: str, shown: str) -> None:
    assert neutralise(hostile) == shown


@given(st.recursive(st.none() | st.text() | st.integers(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_json_output_is_the_same_data_and_inert(data: object) -> None:
    document = json_output(json.dumps(data, indent=2, ensure_ascii=False))
    assert json.loads(document) == data
    assert not any(dangerous(c) for c in document if c != "\n")


@contextmanager
def filtered_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose one handler has the neutralising filter, and what that handler writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(NeutralisingFilter())
    log = logging.getLogger("hvc-test-hostile")
    log.addHandler(handler)
    try:
        yield log, stream
    finally:
        log.removeHandler(handler)


def test_a_log_line_cannot_act_on_the_terminal_or_forge_a_line() -> None:
    with filtered_log() as (log, stream):
        log.warning("sync %s: pupil %s quarantined", "potton", "Eve\x1b[2J\nFORGED hvc: all well")
    assert stream.getvalue() == "sync potton: pupil Eve\\x1b[2J\\x0aFORGED hvc: all well quarantined\n"


def test_a_logged_traceback_shows_the_exceptions_control_characters() -> None:
    with filtered_log() as (log, stream):
        try:
            raise RuntimeError("CPOMS says \x1b[2J\x1b]8;;https://evil.example/\x1b\\")
        except RuntimeError:
            log.exception("push of school %s failed", "potton")
    written = stream.getvalue()
    assert "\x1b" not in written
    assert written.startswith("push of school potton failed\nTraceback")
    assert "RuntimeError: CPOMS says \\x1b[2J\\x1b]8;;https://evil.example/\\x1b\\\n" in written
