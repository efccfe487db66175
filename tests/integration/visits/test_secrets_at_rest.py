"""Files and secrets at rest: the code word is encrypted with a key beside hvc.toml, the store is owner-only
even when it already existed with a looser mode, and ``hvc db rotate-key`` changes the key."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from visitkit import potton_request  # type: ignore[import-not-found]

from hv_connector.store import Store
from hv_connector.store.schema import visits

Hvc = Callable[..., tuple[int, str, str]]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _stored_word(tmp_path: Path, visit_id: str) -> str:
    with Store.open(f"sqlite:///{tmp_path / 'hvc.db'}") as store, store.connect() as conn:
        word: str = conn.execute(select(visits.c.code_word).where(visits.c.id == visit_id)).scalar_one()
    return word


def test_the_code_word_is_encrypted_at_rest_and_the_key_can_be_rotated(hvc: Hvc, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    visit_id = json.loads(hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")[1])["visit"]["id"]
    key = tmp_path / "code-word.key"
    stored = _stored_word(tmp_path, visit_id)
    assert "bluebell" not in stored and _mode(key) == 0o600
    assert "bluebell" not in (tmp_path / "hvc.db").read_bytes().decode("latin-1")
    code, out, _ = hvc("visit", "show", visit_id, "--as", "pt-head", "--reveal-code-word")
    assert code == 0 and "Code word:     bluebell" in out

    old_key = key.read_bytes()
    code, out, _ = hvc("db", "rotate-key")
    assert code == 0 and "Re-encrypted 1 code word(s)" in out
    assert key.read_bytes() != old_key and _stored_word(tmp_path, visit_id) != stored and _mode(key) == 0o600
    assert "Code word:     bluebell" in hvc("visit", "show", visit_id, "--as", "pt-head", "--reveal-code-word")[1]

    key.unlink()
    code, _, err = hvc("visit", "show", visit_id, "--as", "pt-head", "--reveal-code-word")
    assert code == 2 and "code-word.key is missing: restore it from a backup" in err


def test_a_store_that_already_exists_readable_by_others_is_made_owner_only(hvc: Hvc, tmp_path: Path) -> None:
    store = tmp_path / "hvc.db"
    os.chmod(store, 0o644)
    assert hvc("visit", "list")[0] == 0
    assert _mode(store) == 0o600
