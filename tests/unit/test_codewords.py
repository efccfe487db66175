"""The code word key: made once, whole, and never replaced by a second process making it at the same moment."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PosixPath

import pytest

from hv_connector.visits.codewords import CodeWords


class _SawNoKey(PosixPath):
    """A key path as a second watch saw it a moment before the first one wrote the key: not there yet."""

    def exists(self, *args: object, **kwargs: object) -> bool:
        return False


def test_a_second_process_making_the_key_at_the_same_time_keeps_the_first_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "code-word.key"
    first = CodeWords(path)
    sealed = first.seal("heron")
    late = CodeWords(_SawNoKey(path))
    late_sealed = late.seal("kestrel")
    assert first.open(sealed) == "heron"  # replaced, the first key would no longer open it
    assert first.open(late_sealed) == "kestrel"  # the late one sealed with the key that stands
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["code-word.key"]  # nothing half-written left beside it


def test_the_key_is_made_where_the_filesystem_has_no_hard_links(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "code-word.key"
    sealed = CodeWords(path).seal("heron")
    assert CodeWords(path).open(sealed) == "heron" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["code-word.key"]
