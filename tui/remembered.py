"""What the dashboard remembers between runs (the chosen theme), in a small JSON file of the user's state.

A file that is missing, unreadable or from another version is ignored: the dashboard opens as new.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from hv_connector.store.engine import APP_NAME

STATE_FILE = "dashboard.json"
"""The file's name in the user's state directory."""


class Remembered(BaseModel):
    """The dashboard's remembered choices."""

    theme: str | None = None


def default_path() -> Path:
    """``dashboard.json`` in the user's state directory (``~/.local/state/hv-connector`` on Linux)."""
    from platformdirs import user_state_dir  # only when the dashboard opens

    return Path(user_state_dir(APP_NAME)) / STATE_FILE


def read(path: Path) -> Remembered:
    """What ``path`` remembers (nothing when it is missing or cannot be read)."""
    try:
        return Remembered.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return Remembered()


def write(path: Path, remembered: Remembered) -> None:
    """Remember ``remembered`` in ``path`` (its directory made, private to the user)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(remembered.model_dump_json())
