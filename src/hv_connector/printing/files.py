"""Writing a printed document where only the service's user can read it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from hv_connector.errors import PrintError


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` with mode 0600, in a folder with mode 0700 (created if missing), atomically.

    The bytes go to a private temporary file beside ``path`` that is then renamed over it, so a reader
    never sees half a PDF and there is no moment when another user could read it. A folder that already
    exists is narrowed to 0700 only when it is the one we created: an existing folder's mode is the
    owner's choice, but the file itself is always 0600.

    :raises PrintError: the folder or file cannot be written (the message names it).
    """
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)  # whatever the umask said
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise PrintError(f"cannot write to {folder}: {exc.strerror or exc} — choose another folder with --out") from exc
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp opens it 0600
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise PrintError(f"cannot write {path}: {exc.strerror or exc} — choose another file with --out") from exc
