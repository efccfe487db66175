"""The code word key: made once, whole, and never replaced by a second process making it at the same moment."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PosixPath

import pytest
from sqlalchemy import insert, select

from hv_connector.errors import StoreError
from hv_connector.store import Store
from hv_connector.store.schema import visits
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


@pytest.fixture
def sealed(tmp_path: Path) -> Iterator[tuple[Path, CodeWords, Store]]:
    """A store whose one visit's code word ("heron") is sealed with the key at ``code-word.key``: (key, words, store)."""
    path = tmp_path / "code-word.key"
    words = CodeWords(path)
    store = Store.open(f"sqlite:///{tmp_path / 'hvc.db'}", upgrade=True)
    at = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    try:
        with store.begin() as conn:
            conn.execute(insert(visits).values(id="V1", school_id="potton", pupil_mis_id="A1", state="requested",
                                               planned_start=at, created_at=at, updated_at=at, data={},
                                               code_word=words.seal("heron")))
        yield path, words, store
    finally:
        store.close()


@contextmanager
def moves_refused(refuse: Callable[[str, str], bool]) -> Iterator[None]:
    """Inside the block, ``os.replace`` refuses ("Permission denied") each move ``refuse(source, target)`` picks."""
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if refuse(str(src), str(dst)):
            raise OSError(errno.EACCES, "Permission denied")
        real_replace(src, dst)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", replace)
        yield


def test_a_rotation_whose_key_cannot_be_moved_into_place_says_where_the_new_key_is(
        sealed: tuple[Path, CodeWords, Store]) -> None:
    path, words, store = sealed
    with moves_refused(lambda _, target: target == str(path)), pytest.raises(StoreError) as caught:
        words.rotate(store)
    message = str(caught.value)
    assert "Permission denied" in message and f"{path}.new to {path}" in message
    with store.connect() as conn:
        stored = conn.execute(select(visits.c.code_word)).scalar_one()
    for meanwhile in (lambda: CodeWords(path).open(stored), lambda: CodeWords(path).seal("kestrel")):
        with pytest.raises(StoreError, match=f"rotation was cut short.*{path}.new"):
            meanwhile()  # neither told to restore a backup nor given a fresh key the words cannot use
    assert not path.exists()
    os.replace(f"{path}.new", path)  # what the message says to do
    assert CodeWords(path).open(stored) == "heron"


def test_a_rotation_run_again_after_its_key_was_not_moved_into_place_keeps_the_key_the_words_need(
        sealed: tuple[Path, CodeWords, Store]) -> None:
    path, words, store = sealed
    with moves_refused(lambda source, _: source == f"{path}.new"), pytest.raises(StoreError):
        words.rotate(store)
    with pytest.raises(StoreError) as caught:  # the office runs it again rather than moving the key
        words.rotate(store)
    assert f"{path}.new to {path}" in str(caught.value)
    os.replace(f"{path}.new", path)  # what the message says to do
    with store.connect() as conn:
        stored = conn.execute(select(visits.c.code_word)).scalar_one()
    assert CodeWords(path).open(stored) == "heron"
    assert words.rotate(store) == 1  # and then a rotation goes through
    with store.connect() as conn:
        assert CodeWords(path).open(conn.execute(select(visits.c.code_word)).scalar_one()) == "heron"


def test_a_rotation_without_the_key_in_use_says_to_restore_it_and_leaves_no_new_key(
        sealed: tuple[Path, CodeWords, Store]) -> None:
    path, words, store = sealed
    path.unlink()
    with pytest.raises(StoreError, match="is missing: restore it from a backup"):
        words.rotate(store)  # not "a rotation was cut short": its new key would open no word
    assert not Path(f"{path}.new").exists()


def test_a_word_sealed_while_a_cut_short_rotation_s_key_waits_is_refused_not_sealed_under_the_old_key(
        sealed: tuple[Path, CodeWords, Store]) -> None:
    """The words are re-encrypted, but the key in use could not be moved aside: a new word sealed now under that old
    key would be unreadable once the new key is put in place as the message says."""
    path, words, store = sealed
    with moves_refused(lambda source, _: source == str(path)), pytest.raises(StoreError):
        words.rotate(store)
    assert path.exists()  # the old key, still in place
    with pytest.raises(StoreError, match=f"rotation was cut short.*{path}.new"):
        CodeWords(path).seal("kestrel")
