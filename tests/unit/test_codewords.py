"""The code word key: made once, whole, and never replaced by a second process making it at the same moment."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
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


FULL_DISK = '''
import errno, json, os, resource, signal, sys
from pathlib import Path
from hv_connector.errors import StoreError
from hv_connector.visits.codewords import CodeWords

def disk_full() -> None:  # past this many bytes every write fails (EFBIG), as on a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

def no_links(*args: object) -> None:  # a share without hard links, whose disk fills as the key is made in place
    disk_full()
    raise OSError(errno.EPERM, "Operation not permitted")

if sys.argv[2] == "no-links":
    os.link = no_links
else:
    disk_full()
try:
    CodeWords(Path(sys.argv[1])).seal("heron")
except StoreError as exc:
    print(json.dumps({"error": str(exc)}))
'''


@pytest.mark.parametrize("where", ["disk", "no-links"])
def test_a_key_that_cannot_be_written_says_what_to_do_and_leaves_no_half_key(tmp_path: Path, where: str) -> None:
    path = tmp_path / "config" / "code-word.key"
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), where], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr  # no raw OSError traceback
    message = json.loads(done.stdout)["error"]
    assert f"cannot write the code word key {path}" in message and "File too large" in message
    assert "free space" in message
    assert list(path.parent.iterdir()) == []  # no key file, whole or half, and no temporary one
    assert CodeWords(path).open(CodeWords(path).seal("heron")) == "heron"  # with room again, the key is made
