"""Fixtures for the visit tests: the real installed policies, a fixed clock, and the service on a seeded store.

The fictional data lives in ``visitkit.py`` beside this file (importable by the tests).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from visitkit import NOW, directory, seed_pupils, write_config

from hv_connector.cli import main
from hv_connector.clock import FixedClock
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.store import Store
from hv_connector.visits.service import VisitService
from tests.clockkit import CommandClock


@pytest.fixture(scope="session")
def policies() -> Policies:
    return Policies(build_plugin_manager())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def service(store: Store, policies: Policies, clock: FixedClock) -> Iterator[VisitService]:
    """The visit service on a seeded store (SQLite, then PostgreSQL when one answers)."""
    seed_pupils(store)
    yield VisitService(store=store, policies=policies, directory=directory(), clock=clock)


@pytest.fixture
def hvc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``hvc ARGS…`` in this process on a configured, seeded store; returns (exit code, stdout, stderr).

    The first command starts at 08:00 on 23 Nov, each next one after it (:class:`~tests.clockkit.CommandClock`).
    """
    url = f"sqlite:///{tmp_path / 'hvc.db'}"
    with Store.open(url) as store:
        seed_pupils(store)
    monkeypatch.setenv("HVC_CONFIG", str(write_config(tmp_path / "hvc.toml", url)))
    clock = CommandClock(monkeypatch, NOW)

    def run(*args: str) -> tuple[int, str, str]:
        with clock.command():
            code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
