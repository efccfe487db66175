"""The one JSON text that hashing uses, and the hash of a value: shared by the audit chain and record hashes.

The text is what :func:`json.dumps` writes with sorted keys, no spaces and
UTF-8 (every hash in the log was made from it). orjson writes the same text
for strings, integers, booleans, ``None``, dates, datetimes in UTC, lists and
dicts with string keys, several times faster: a value made of those alone
takes that path. Anything else (a float, whose text orjson may spell
differently; a datetime in another zone, which :func:`_json_default` turns to
UTC; an integer past 64 bits; a key that is not a string) takes
:func:`json.dumps`'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import orjson


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit detail values must be JSON (or dates); got {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)
_SCALARS = frozenset({str, int, bool, type(None), date})
"""Types both encoders write alike (a date as :func:`_json_default` does)."""
_KEYS = frozenset({str})
_UTC = timedelta(0)


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of :data:`_SCALARS`, datetimes in UTC (or naive), lists, tuples and dicts with string
    keys only: what orjson writes as :func:`json.dumps` does (a datetime is written in UTC by either, then)."""
    kind = type(value)
    if kind is dict:
        if not _KEYS.issuperset(map(type, value)):
            return False
        items: Iterable[Any] = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif kind is datetime:
        return value.tzinfo is None or value.tzinfo is timezone.utc or value.utcoffset() == _UTC
    else:
        return kind in _SCALARS
    # A row's scalars are checked here, not in a call each (hashing reads many rows); a loop, as all() over a
    # generator costs twice as much.
    for item in items:  # noqa: SIM110
        if type(item) not in _SCALARS and not _plain(item):
            return False
    return True


def _fast_text(value: Any) -> bytes | None:
    """The canonical text of ``value`` as orjson writes it, when it is :func:`_plain` and orjson can write it."""
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer past 64 bits, a lone surrogate: json.dumps writes (or refuses) it
            pass
    return None


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that hashing uses: sorted keys, no spaces, UTF-8."""
    text = _fast_text(value)
    return _ENCODER.encode(value) if text is None else text.decode("utf-8")


def as_read_back(value: Any) -> str:
    """The canonical text of ``value`` as it reads back from its canonical text (dates as ISO text, tuples as lists,
    keys as strings): what a stored value's hash is made from, and the text to store.

    The text of a value made of what :func:`_plain` accepts is that of the value read back from it. Anything else
    is written again from what was read back: its text can differ (keys ``2`` and ``10`` are written in number
    order, and read back as ``"2"`` and ``"10"``, which sort as text).
    """
    fast = _fast_text(value)
    return fast.decode("utf-8") if fast is not None else canonical_json(json.loads(_ENCODER.encode(value)))


def digest(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s :func:`canonical_json`."""
    text = _fast_text(value)  # orjson's bytes are the text's UTF-8: hashed as they are
    return hashlib.sha256(_ENCODER.encode(value).encode("utf-8") if text is None else text).hexdigest()
