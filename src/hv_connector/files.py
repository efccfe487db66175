"""Files that can hold personal data (the store, logs, exports): owner-only, or refused with the fix.

A file is made 0600 and its folder 0700 before anything is written to it. A file that already exists
(restored from a backup, touched by an installer) is tightened; one hv-connector may not change (owned by
someone else) is refused with the command that fixes it, rather than used as it is. A whole file (an export, a
PDF, a key, the dashboard's remembered theme) is written with :func:`write_whole`: never half of one.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
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

    Whole documents (exports, PDFs) are written with :func:`write_whole`, atomically.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    _tighten(path, FILE_MODE)
    return os.fdopen(fd, "ab")


class FolderUnwritable(OSError):
    """:func:`write_whole` could not make the file's folder, or a file in it (nothing was written)."""


def write_whole(path: Path, content: bytes, *, place: Callable[[str, Path], None] | None = None) -> None:
    """Write ``content`` to ``path`` as a 0600 file, whole or not at all, in a folder made 0700 if missing.

    The bytes go to a temporary file beside ``path``, private from the moment it exists, and through to the
    disk; ``place(temporary, path)`` (by default :func:`os.replace`) then puts it where it belongs, so a
    reader sees the old file or the new one, never half of one. The temporary is gone afterwards, whether
    ``place`` moved it, linked it, or anything failed. A folder that exists already keeps its mode (the
    owner's choice); one made here is 0700 whatever the umask.

    :raises FolderUnwritable: the folder, or a file in it, cannot be made.
    :raises OSError: the content cannot be written or put in place (``path`` is as it was).
    """
    folder = path.parent
    try:
        try:
            folder.mkdir(mode=DIR_MODE, parents=True)
        except FileExistsError:
            pass
        else:
            os.chmod(folder, DIR_MODE)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")  # mode 0600
    except OSError as exc:
        raise FolderUnwritable(*exc.args) from exc
    try:
        write_through(fd, content)
        (place or os.replace)(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)


def write_through(fd: int, content: bytes) -> None:
    """Write ``content`` to the file open as ``fd``, through to the disk (flushed, fsynced), and close it."""
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def _tighten(path: Path, wanted: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~wanted == 0:
        return
    try:
        os.chmod(path, wanted)
    except PermissionError:
        raise StoreError(f"{path} can be read by other users (mode {current:o}) and hv-connector may not change "
                         f"that: run `chmod {wanted:o} {path}` as its owner, then try again") from None
