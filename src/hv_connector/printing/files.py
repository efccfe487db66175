"""Writing a printed document where only the service's user can read it."""

from __future__ import annotations

from pathlib import Path

from hv_connector.errors import PrintError
from hv_connector.files import FolderUnwritable, write_whole


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` with mode 0600, in a folder with mode 0700 (created if missing), atomically.

    The bytes go to a private temporary file beside ``path`` that is then renamed over it, so a reader
    never sees half a PDF and there is no moment when another user could read it. A folder that already
    exists is narrowed to 0700 only when it is the one we created: an existing folder's mode is the
    owner's choice, but the file itself is always 0600 (see :func:`hv_connector.files.write_whole`).

    :raises PrintError: the folder or file cannot be written (the message names it).
    """
    try:
        write_whole(path, content)
    except FolderUnwritable as exc:
        raise PrintError(f"cannot write to {path.parent}: {exc.strerror or exc} — choose another folder with --out") from exc
    except OSError as exc:
        raise PrintError(f"cannot write {path}: {exc.strerror or exc} — choose another file with --out") from exc
