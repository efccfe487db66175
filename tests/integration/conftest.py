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


def _starter(stack: ExitStack, fake_class: type[WondeFake | CpomsFake]) -> Callable[..., RunningServer]:
    def start(seed: int = SEED, pupils: int | dict[str, int] = PUPILS, **config: Any) -> RunningServer:
        return stack.enter_context(serve_in_thread(fake_class(seed, pupils, **config)))

    return start


@pytest.fixture
def make_wonde_server() -> Iterator[Callable[..., RunningServer]]:
    """Start fake Wonde servers: ``make_wonde_server(seed=1, pupils=60, **WondeConfig fields)``."""
    with ExitStack() as stack:
        yield _starter(stack, WondeFake)


@pytest.fixture(scope="session")
def _shared_wonde_server() -> Iterator[RunningServer]:
    with serve_in_thread(WondeFake(SEED, PUPILS)) as server:
        yield server


@pytest.fixture
def wonde_server(_shared_wonde_server: RunningServer) -> RunningServer:
    """A fake Wonde (seed 1, 60 pupils per school, token ``test-token``) on loopback, as new.

    One server serves the whole session; it is reset (data, config, faults, stats) before each test.
    """
    _shared_wonde_server.fake.reset()
    return _shared_wonde_server


@pytest.fixture
def make_cpoms_server() -> Iterator[Callable[..., RunningServer]]:
    """Start fake CPOMS servers: ``make_cpoms_server(seed=1, pupils=60, state_file=None, **CpomsConfig fields)``.

    Tokens: ``test-token-<school slug>`` for each demo school (``test-token`` is birchwood's).
    """
    with ExitStack() as stack:
        yield _starter(stack, CpomsFake)


@pytest.fixture(scope="session")
def _shared_cpoms_server() -> Iterator[RunningServer]:
    with serve_in_thread(CpomsFake(SEED, PUPILS)) as server:
        yield server


@pytest.fixture
def cpoms_server(_shared_cpoms_server: RunningServer) -> RunningServer:
    """A fake CPOMS (seed 1, 60 pupils per school, 60 requests/min per token) on loopback, as new.

    One server serves the whole session; it is reset (incidents, keys, alerts, config, stats) before each test.
    """
    _shared_cpoms_server.fake.reset()
    return _shared_cpoms_server
