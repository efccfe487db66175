"""Files that can hold personal data (the store, logs, exports): owner-only, or refused with the fix.

A file is made 0600 and its folder 0700 before anything is written to it. A file that already exists
(restored from a backup, touched by an installer) is tightened; one hv-connector may not change (owned by
someone else) is refused with the command that fixes it, rather than used as it is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from hv_connector.errors import StoreError

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) as a 0700 folder, or tighten it; the path."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def tighten(path: Path) -> None:
    """Make an existing file 0600 (a no-op when it already is, or does not exist).

    :raises StoreError: it is readable by others and hv-connector may not change its mode; the message says how.
    """
    if path.exists():
        _tighten(path, FILE_MODE)


def open_log(path: Path) -> BinaryIO:
    """Open the log ``path`` for appending, as a 0600 file (tightened if it exists) in a 0700 folder made if missing.

    Whole documents (exports, PDFs) are written with :func:`hv_connector.printing.write_private`, atomically.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    _tighten(path, FILE_MODE)
    return os.fdopen(fd, "ab")


def _tighten(path: Path, wanted: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~wanted == 0:
        return
    try:
        os.chmod(path, wanted)
    except PermissionError:
        raise StoreError(f"{path} can be read by other users (mode {current:o}) and hv-connector may not change "
                         f"that: run `chmod {wanted:o} {path}` as its owner, then try again") from None
