"""Dashboard test fixtures: a real SQLite store seeded once with :mod:`dashkit`'s world, copied per test."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dashkit import World, attach, make_world  # noqa: E402

from hv_connector.plugins import Policies, build_plugin_manager  # noqa: E402
from hv_connector.store import Store  # noqa: E402
from hv_connector.visits.codewords import KEY_FILE  # noqa: E402


@pytest.fixture(scope="session")
def policies() -> Policies:
    return Policies(build_plugin_manager())


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, policies: Policies) -> tuple[Path, dict[str, str]]:
    """One store seeded through the real visit service and watch, and its visit ids."""
    path = tmp_path_factory.mktemp("seeded") / "hvc.db"
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    try:
        ids = make_world(store, policies).ids
    finally:
        store.close()
    return path, ids


@pytest.fixture
def world(tmp_path: Path, seeded: tuple[Path, dict[str, str]], policies: Policies) -> Iterator[World]:
    """Visits in every state the screens show, on this test's own copy of the store; the clock at 09:36."""
    path, ids = seeded
    shutil.copy(path, tmp_path / "hvc.db")
    shutil.copy(path.with_name(KEY_FILE), tmp_path / KEY_FILE)  # the code words' key goes with the store
    store = Store.open(f"sqlite:///{tmp_path / 'hvc.db'}")
    try:
        yield attach(store, dict(ids), policies)
    finally:
        store.close()
