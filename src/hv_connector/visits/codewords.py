"""The code word at rest: encrypted (Fernet) with a key kept outside the store, opened only when needed.

The key is ``code-word.key`` beside the settings file (the config directory), created 0600 the first
time a code word is stored; a copy of the store alone (a backup, a stolen laptop's database) holds no code
word in clear. The word is opened only to show it to the office or an authoriser (audited) and to refuse
a note that spells it out. ``hvc db rotate-key`` re-encrypts every code word under a new key.

A visit stored before encryption keeps its word in clear until ``hvc db rotate-key`` runs: it still opens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from hv_connector.errors import StoreError
from hv_connector.files import FolderUnwritable, tighten, write_through, write_whole
from hv_connector.store import Store
from hv_connector.store.schema import visits

KEY_FILE = "code-word.key"
_TOKEN_PREFIX = "gAAAAA"
"""How every Fernet token begins (version byte 0x80, then the time): a word stored in clear does not."""


@dataclass(frozen=True)
class CodeWords:
    """Seal and open code words with the key in ``key_path`` (made, 0600, on the first seal)."""

    key_path: Path

    @classmethod
    def beside(cls, config_file: Path) -> CodeWords:
        """The key in the folder of the settings file ``config_file``."""
        return cls(config_file.parent / KEY_FILE)

    def seal(self, word: str | None) -> str | None:
        """``word`` encrypted for storing (a word already sealed with this key is kept as it is).

        :raises StoreError: the key is made on the first seal, and cannot be written; or a rotation cut short left
            its new key waiting (a word sealed under the key in place now would be unreadable once that one is moved in).
        """
        if word is None or self._is_sealed(word):
            return word
        self._check_rotation_finished()
        return self._fernet(create=True).encrypt(word.encode("utf-8")).decode("ascii")

    def open(self, stored: str | None) -> str | None:
        """The word in clear from its stored form.

        :raises StoreError: the key is missing or is not the one the word was sealed with.
        """
        if stored is None or not stored.startswith(_TOKEN_PREFIX):
            return stored
        try:
            return self._fernet(create=False).decrypt(stored.encode("ascii")).decode("utf-8")
        except InvalidToken:
            self._check_rotation_finished()
            raise StoreError(f"the code word key {self.key_path} does not open this store's code words: restore the "
                             "key that was in use from a backup (or set HVC_CONFIG to the settings file beside it)") from None

    def rotate(self, store: Store) -> int:
        """Re-encrypt every code word (and seal any still in clear) under a new key; how many were re-encrypted.

        The new key is written beside the old one first and takes its place only once the rows are written;
        the old key stays as ``code-word.key.old`` until you delete it (after the next backup).
        """
        fresh = Fernet.generate_key()
        staged, old = self._staged, self.key_path.with_name(f"{KEY_FILE}.old")
        if _opens_the_store(staged, store):  # a rotation cut short after its rows were written: the only key left
            raise StoreError(f"a key rotation was cut short: the code words are sealed under {staged}, which never "
                             f"took its place: {self._move_staged_key()}, then run `hvc db rotate-key` again if you "
                             "still want a new key")
        staged.unlink(missing_ok=True)  # a rotation cut short before it wrote anything: its key opens no word
        with store.begin() as conn:
            sealed = [(row.id, row.code_word) for row in conn.execute(select(visits.c.id, visits.c.code_word)
                                                                      .where(visits.c.code_word.is_not(None)))]
            # Opened before the new key is written: a key missing or wrong is reported as that, not as this
            # rotation cut short.
            opened = [(visit_id, self.open(stored) or "") for visit_id, stored in sealed]
            _create_key(staged, fresh, replace=True)
            for visit_id, word in opened:
                conn.execute(update(visits).where(visits.c.id == visit_id)
                             .values(code_word=Fernet(fresh).encrypt(word.encode("utf-8")).decode("ascii")))
        try:
            if self.key_path.exists():
                os.replace(self.key_path, old)
            os.replace(staged, self.key_path)
        except OSError as exc:  # the rows are sealed under the new key already: say where it is
            raise StoreError(f"the code words are re-encrypted under the new key {staged}, but it could not be moved "
                             f"into place ({exc.strerror}): {self._move_staged_key()}; until then no code word can "
                             "be shown") from None
        return len(sealed)

    def _is_sealed(self, word: str) -> bool:
        if not word.startswith(_TOKEN_PREFIX) or not self.key_path.exists():
            return False
        try:
            self._fernet(create=False).decrypt(word.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def _check_rotation_finished(self) -> None:
        """Refuse, saying what to move where, while a rotation's new key waits beside the key in use.

        A rotation re-encrypts the words first and moves its key into place after: if that move failed, the words
        need ``code-word.key.new``, and a key made or used meanwhile would seal or open nothing they can read.
        """
        if self._staged.exists():
            raise StoreError(f"a key rotation was cut short: the code words may need the key {self._staged}. "
                             f"To put it in place, {self._move_staged_key()}; or, if `hvc db rotate-key` was cut short "
                             "before it wrote anything, run it again")

    @property
    def _staged(self) -> Path:
        """Where a rotation writes its new key before it takes the place of the one in use."""
        return self.key_path.with_name(f"{KEY_FILE}.new")

    def _move_staged_key(self) -> str:
        """What to do, by hand, to put a cut-short rotation's key in place."""
        return (f"move {self.key_path} (if there) to {self.key_path.with_name(f'{KEY_FILE}.old')}, then "
                f"{self._staged} to {self.key_path}")

    def _fernet(self, *, create: bool) -> Fernet:
        if not self.key_path.exists():
            self._check_rotation_finished()
            if not create:
                raise StoreError(f"the code word key {self.key_path} is missing: restore it from a backup (without it "
                                 "no stored code word can be shown)")
            _create_key(self.key_path, Fernet.generate_key())
        tighten(self.key_path)
        return Fernet(self.key_path.read_bytes().strip())


def _opens_the_store(key_path: Path, store: Store) -> bool:
    """Whether the key in ``key_path`` (if any) opens a code word in ``store``."""
    if not key_path.exists():
        return False
    with store.connect() as conn:
        sealed = conn.execute(select(visits.c.code_word).where(visits.c.code_word.startswith(_TOKEN_PREFIX))
                              .limit(1)).scalar_one_or_none()
    if sealed is None:
        return False
    try:
        Fernet(key_path.read_bytes().strip()).decrypt(sealed.encode("ascii"))
    except (InvalidToken, ValueError):  # another key, or not a key at all (a half-written one)
        return False
    return True


def _create_key(path: Path, key: bytes, *, replace: bool = False) -> None:
    """Write ``key`` to a 0600 file ``path`` (its folder made 0700 if missing, left as it is if not), whole or not at all.

    The key is written to a file of its own and then linked into place, so nobody reads half a key. Where
    ``path`` exists already, it is kept (two processes making the first key at once: the first one's stands,
    and the other reads it), unless ``replace`` (a staged key of a rotation cut short).

    :raises StoreError: the key cannot be written (no room, no permission); no key file, whole or half, is left.
    """
    try:
        write_whole(path, key, place=None if replace else partial(_link_or_make, key=key))
    except FolderUnwritable as exc:
        raise StoreError(f"cannot create the code word key {path} ({exc.strerror}): create it as the user hv-connector "
                         f"runs as with `hvc db rotate-key`, or let that user write to {path.parent}") from None
    except OSError as exc:
        raise StoreError(f"cannot write the code word key {path} ({exc.strerror or exc}): free space on its disk, "
                         f"or let the user hv-connector runs as write to {path.parent}, then try again "
                         "(no key was made)") from None


def _link_or_make(written: str, path: Path, *, key: bytes) -> None:
    """Link the written key into place at ``path``; where the filesystem has no hard links, make it there."""
    try:
        os.link(written, path)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links (some network shares): made in place, exclusively
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        try:
            write_through(fd, key)
        except OSError:
            path.unlink(missing_ok=True)  # never half a key: the next seal makes it afresh
            raise
