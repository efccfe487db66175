"""A whole private file: 0600 from the moment it exists, and never half written, whoever writes it."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hv_connector.files import FolderUnwritable, write_whole


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away, as a careless service account's might."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("there_before", [None, 0o750], ids=["folder-made", "folder-there"])
def test_a_whole_file_is_the_owners_alone_whatever_the_umask(tmp_path: Path, there_before: int | None) -> None:
    """A folder made for the file is 0700; one there before keeps the mode its owner gave it; the file is 0600."""
    folder = tmp_path / "exports"
    if there_before is not None:
        folder.mkdir(mode=there_before)
    for content in (b"first", b"second"):
        write_whole(folder / "record.json", content)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (folder, *folder.iterdir())}
    assert modes == {"exports": there_before or 0o700, "record.json": 0o600}  # and no temporary left beside it
    assert (folder / "record.json").read_bytes() == b"second"


@pytest.mark.parametrize("fails", ["fsync", "replace"])
def test_a_write_cut_short_leaves_the_old_file_whole_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       fails: str) -> None:
    path = tmp_path / "record.json"
    write_whole(path, b"old")

    def disk_fails(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(os, fails, disk_fails)  # the disk fails mid-write, or the rename
    with pytest.raises(OSError, match="Input/output") as caught:
        write_whole(path, b"new")
    monkeypatch.undo()
    assert not isinstance(caught.value, FolderUnwritable)  # the file failed, not its folder
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_folder_that_cannot_be_made_is_told_apart_from_a_file_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(FolderUnwritable):
        write_whole(tmp_path / "file" / "record.json", b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
