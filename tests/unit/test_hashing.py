"""Hashing writes one JSON text: ``json.dumps`` with sorted keys, no spaces and UTF-8, whichever encoder writes it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from hv_connector.store.hashing import _json_default, canonical_json

ZONES = [timezone.utc, ZoneInfo("Europe/London"), timezone(timedelta(hours=-5))]


def _reference(value: Any) -> str:
    """The text every hash in the audit log was made from."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70), st.text(), st.dates(),
    st.datetimes(), st.datetimes(timezones=st.sampled_from(ZONES)),
    st.floats(allow_nan=True, allow_infinity=True),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(st.text(max_size=6), inner, max_size=4),
), max_leaves=20)


@given(values)
def test_the_text_is_json_dumps_text(value: Any) -> None:
    assert canonical_json(value) == _reference(value)


def test_every_character_is_written_as_json_dumps_writes_it() -> None:
    text = "".join(chr(c) for c in range(0x3000)) + "\U0001F600\u2028\ufeff"
    assert canonical_json({text: [text]}) == _reference({text: [text]})


def test_values_json_cannot_write_are_refused_alike() -> None:
    for value in ({"at": datetime(2026, 1, 1).time()}, {"pupil": object()}, {(1, 2): "a"}):
        try:
            _reference(value)
        except TypeError as expected:
            try:
                canonical_json(value)
            except TypeError as refused:
                assert str(refused) == str(expected)
                continue
        raise AssertionError(f"{value!r} was written")


def test_keys_that_are_not_strings_are_written_as_json_dumps_writes_them() -> None:
    assert canonical_json({2: "b", 1: date(2026, 1, 1)}) == '{"1":"2026-01-01","2":"b"}'


@given(values)
def test_the_text_of_a_value_read_back_from_its_text_is_that_text(value: Any) -> None:
    """What lets the audit log hash a detail's text rather than the detail read back from it."""
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text
