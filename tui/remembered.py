"""What the dashboard remembers between runs (the chosen theme), in a small JSON file of the user's state.

A file that is missing, unreadable or from another version is ignored: the dashboard opens as new (and says so
in the log, unless the file is simply not there yet). The file is replaced whole, never written in place, so a
write cut short or two writes at once leave the old file or a new one, never half of one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ValidationError

from hv_connector.files import write_whole
from hv_connector.store.engine import APP_NAME

log = logging.getLogger(__name__)

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
    except FileNotFoundError:
        return Remembered()
    except (OSError, ValidationError) as exc:
        reason = f"{exc.error_count()} problem(s) in it" if isinstance(exc, ValidationError) else str(exc)
        log.warning("%s could not be read (%s): the dashboard opens with nothing remembered, and the next theme "
                    "chosen replaces the file", path, reason)
        return Remembered()


def write(path: Path, remembered: Remembered) -> None:
    """Remember ``remembered`` in ``path`` (its directory made, private to the user): written to a temporary file
    beside it, flushed to the disk, then put in its place, so that ``path`` always holds a whole file.

    :raises OSError: it could not be written (the file is as it was).
    """
    write_whole(path, remembered.model_dump_json().encode("utf-8"))
