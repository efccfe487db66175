"""Reading a visit from a JSON file, with errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from hv_connector.errors import InputError
from hv_connector.models import Visit


def describe_validation_error(source: str, error: ValidationError) -> str:
    """One line per problem: the dotted field path and what is wrong with it."""
    lines = [f"{source} is not a valid visit:"]
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(the whole visit)"
        lines.append(f"  - {where}: {problem['msg']}")
    return "\n".join(lines)


def parse_visit(text: str, source: str = "visit") -> Visit:
    """Parse a visit from JSON text; :class:`InputError` names each bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError(f"{source} must hold one JSON object (a visit), not {type(data).__name__}")
    try:
        return Visit.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(source, exc)) from None


def load_visit(path: Path) -> Visit:
    """Read and parse the visit file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read visit file {path}: {exc.strerror}") from None
    return parse_visit(text, source=str(path))
