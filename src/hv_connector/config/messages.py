"""Messages that name the wrong setting and the fix: its variable and its place in ``hvc.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hv_connector.config.settings import CONFIG_FILE_NAME, ENV_PREFIX


def _dotted(loc: tuple[Any, ...], schools: list[str]) -> list[str]:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "schools" and parts[1].isdigit() and int(parts[1]) < len(schools):
        parts[1] = schools[int(parts[1])]
    return parts


def setting_fix(parts: list[str], file: Path | str = CONFIG_FILE_NAME) -> str:
    """How to set the setting at ``parts`` (e.g. ``["wonde", "token"]``): its variable and its place in the file."""
    name = Path(file).name
    key = parts[-1]
    entry = next((i for i, part in enumerate(parts[:-1]) if part.isdigit()), None)
    if entry is not None:  # an entry of an array of tables, e.g. the 2nd [[staff.potton]]
        where = f"`{key}` in entry {int(parts[entry]) + 1} of [[{'.'.join(parts[:entry])}]] in {name}"
    elif len(parts) > 1:
        where = f"`{key}` under [{'.'.join(parts[:-1])}] in {name}"
    else:
        where = f"`{key}` at the top of {name}"
    if parts[0] in ("schools", "staff") and len(parts) > 2:
        return f"set {where}"
    return f"export {ENV_PREFIX}{'__'.join(parts).upper()} or set {where}"


def describe_errors(exc: ValidationError, file: Path | str = CONFIG_FILE_NAME) -> str:
    """One line per wrong setting: where it is, what is wrong, how to fix it. Values are never shown."""
    schools = _raw_school_ids(Path(file))
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        parts = _dotted(tuple(error["loc"]), schools) or ["settings"]
        message = error["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        fix = setting_fix(parts, file)
        if error["type"] == "missing":
            message = "is not set"
        elif error["type"] == "extra_forbidden":
            message, fix = "is not a setting hv-connector knows", f"remove it or correct the spelling in {Path(file).name}"
        lines.append(f"{display_path(parts)} {message}: {fix}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def display_path(parts: list[str]) -> str:
    """``staff.potton[2].roles`` for ``["staff", "potton", "1", "roles"]`` (entries count from 1)."""
    shown = ""
    for part in parts:
        shown += f"[{int(part) + 1}]" if part.isdigit() else (f".{part}" if shown else part)
    return shown


def _raw_school_ids(path: Path) -> list[str]:
    try:
        schools = tomllib.loads(path.read_text(encoding="utf-8")).get("schools", {})
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML: load_settings has said so
        return []
    if isinstance(schools, dict):
        return list(schools)
    if isinstance(schools, list):
        return [str(s.get("id", i)) if isinstance(s, dict) else str(i) for i, s in enumerate(schools)]
    return []

