"""Loopback fake servers for integration tests: ``wonde_server`` and ``cpoms_server``.

Each test gets a fake as new on 127.0.0.1, served from a background thread:
``wonde_server`` and ``cpoms_server`` share one server per session and reset
it before each test; the ``make_*`` factories start a fresh one (about 0.1 s). The yielded
:class:`hvc_fixtures.serve.RunningServer` has ``api`` (the base URL to give a
client), ``fake`` (the Python API: ``inject``, ``configure``, ``mutate``,
``stats``…) and ``control`` (the same over HTTP). Use the ``make_*`` factories
for another seed, size or config::

    def test_x(make_wonde_server):
        server = make_wonde_server(pupils=120, latency_ms=5)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from hvc_fixtures.cpoms_server import CpomsFake
from hvc_fixtures.serve import RunningServer, serve_in_thread
from hvc_fixtures.wonde_server import WondeFake

SEED = 1
PUPILS = 60


def _starter(fake_class: type[WondeFake | CpomsFake]) -> Iterator[Callable[..., RunningServer]]:
    """A ``make_*`` factory's body: start fakes of ``fake_class`` on demand, all stopped after the test."""
    with ExitStack() as stack:
        def start(seed: int = SEED, pupils: int | dict[str, int] = PUPILS, **config: Any) -> RunningServer:
            return stack.enter_context(serve_in_thread(fake_class(seed, pupils, **config)))

        yield start


def _shared(fake_class: type[WondeFake | CpomsFake]) -> Iterator[RunningServer]:
    """A session's one fake of ``fake_class`` (seed 1, 60 pupils per school), stopped at the end."""
    with serve_in_thread(fake_class(SEED, PUPILS)) as server:
        yield server


def _as_new(shared: RunningServer) -> RunningServer:
    """The session's fake, reset to as new for the test."""
    shared.fake.reset()
    return shared


@pytest.fixture
def make_wonde_server() -> Iterator[Callable[..., RunningServer]]:
    """Start fake Wonde servers: ``make_wonde_server(seed=1, pupils=60, **WondeConfig fields)``."""
    yield from _starter(WondeFake)


@pytest.fixture(scope="session")
def _shared_wonde_server() -> Iterator[RunningServer]:
    yield from _shared(WondeFake)


@pytest.fixture
def wonde_server(_shared_wonde_server: RunningServer) -> RunningServer:
    """A fake Wonde (seed 1, 60 pupils per school, token ``test-token``) on loopback, as new.

    One server serves the whole session; it is reset (data, config, faults, stats) before each test.
    """
    return _as_new(_shared_wonde_server)


@pytest.fixture
def make_cpoms_server() -> Iterator[Callable[..., RunningServer]]:
    """Start fake CPOMS servers: ``make_cpoms_server(seed=1, pupils=60, state_file=None, **CpomsConfig fields)``.

    Tokens: ``test-token-<school slug>`` for each demo school (``test-token`` is birchwood's).
    """
    yield from _starter(CpomsFake)


@pytest.fixture(scope="session")
def _shared_cpoms_server() -> Iterator[RunningServer]:
    yield from _shared(CpomsFake)


@pytest.fixture
def cpoms_server(_shared_cpoms_server: RunningServer) -> RunningServer:
    """A fake CPOMS (seed 1, 60 pupils per school, 60 requests/min per token) on loopback, as new.

    One server serves the whole session; it is reset (incidents, keys, alerts, config, stats) before each test.
    """
    return _as_new(_shared_cpoms_server)
