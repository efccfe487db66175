"""Reading visit documents (a visit, a request, an outcome) from JSON files, with errors a person can act on.

One reader for every file a command takes: it decodes UTF-8 (with or without
a byte-order mark) and UTF-16 with a byte-order mark (what Windows Notepad
saves as "Unicode"), refuses nesting deeper than any visit has, and strings
that are not valid Unicode, naming the field. Every message quotes at most a
short excerpt of a bad value.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hv_connector.errors import InputError, excerpt
from hv_connector.models import Visit

MAX_DEPTH = 16
"""How deeply a document may nest; a visit is five levels deep at most (``risk_assessment.hazards[0].controls[0]``)."""

MAX_PROBLEMS = 10
"""How many problems a validation message lists before it says how many more there are."""

SECRET_FIELDS = frozenset({"code_word"})
"""Fields whose value a message never quotes, even when it is wrong."""

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes, source: str) -> str:
    """``raw`` as text: UTF-8, or whatever its byte-order mark says; :class:`InputError` naming ``source`` if neither."""
    codec = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 text (byte {raw[exc.start]:#04x} at position {exc.start}): "
            "save it as UTF-8 (in Notepad: File, Save as, Encoding: UTF-8)"
        ) from None


def _field(path: tuple[Any, ...]) -> str:
    return ".".join(excerpt(p, 30).strip("'") if isinstance(p, str) else str(p) for p in path) or "(the whole document)"


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every key and value under ``value`` with its path, stopping below :data:`MAX_DEPTH`."""
    yield path, value
    if len(path) >= MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,), key
            yield from _walk(item, path + (key,))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, path + (index,))


def check_plain(data: Any, source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and text that is not valid Unicode, naming the field.

    A lone surrogate comes from a ``"\\ud800"`` escape in JSON or from bytes that are not UTF-8 in an
    argument; it cannot be stored in PostgreSQL, sent to CPOMS or printed.
    """
    for path, value in _walk(data):
        if len(path) >= MAX_DEPTH and isinstance(value, dict | list | tuple) and value:
            raise InputError(f"{source}: {_field(path[:3])}… is nested more than {MAX_DEPTH} deep; "
                             "a visit document never is: check the file is the one you meant")
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"{source}: {_field(path)} holds {excerpt(value)}, which is not valid Unicode "
                                 "(a lone surrogate): type that text again") from None


def parse_document(text: str, source: str, what: str) -> dict[str, Any]:
    """The one JSON object in ``text``; :class:`InputError` naming ``source`` when it is not ``what``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise InputError(f"{source} is nested too deeply to be {what}: check the file is the one you meant") from None
    if not isinstance(data, dict):
        raise InputError(f"{source} must hold one JSON object ({what}), not {type(data).__name__}")
    check_plain(data, source)
    return data


def read_document(path: Path, what: str, source: str | None = None) -> dict[str, Any]:
    """Read the JSON object in the file at ``path`` (``what`` it should be, for messages).

    :param source: how messages name the file (default: its path), e.g. ``--file visit.json``.
    """
    source = source or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from None
    return parse_document(decode_text(raw, source), source, what)


def describe_validation_error(source: str, error: ValidationError, what: str = "a valid visit") -> str:
    """One line per problem (the first :data:`MAX_PROBLEMS`): the dotted field, what is wrong, an excerpt of the value."""
    problems = error.errors(include_url=False)
    lines = [f"{source} is not {what}:"]
    for problem in problems[:MAX_PROBLEMS]:
        loc = tuple(problem["loc"])
        given = ""
        if "input" in problem and not SECRET_FIELDS.intersection(map(str, loc)) and problem["type"] != "missing":
            given = f" (given {excerpt(problem['input'])})"
        lines.append(f"  - {_field(loc)}: {problem['msg']}{given}")
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"  … and {len(problems) - MAX_PROBLEMS} more")
    return "\n".join(lines)


def parse_visit(text: str, source: str = "visit") -> Visit:
    """Parse a visit from JSON text; :class:`InputError` names each bad field."""
    data = parse_document(text, source, "a visit")
    try:
        return Visit.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(source, exc)) from None


def load_visit(path: Path) -> Visit:
    """Read and parse the visit file at ``path``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read visit file {path}: {exc.strerror}") from None
    return parse_visit(decode_text(raw, str(path)), source=str(path))
