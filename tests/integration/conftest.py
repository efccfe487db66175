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


def _fake_fixtures(service: str, fake_class: type[WondeFake | CpomsFake], make_doc: str, doc: str) -> tuple[Any, ...]:
    """The fixtures of one fake: ``make_<service>_server`` (start fresh ones on demand, all stopped after the test),
    ``_shared_<service>_server`` (the session's one, seed 1, 60 pupils per school) and ``<service>_server``
    (that one, reset to as new for the test)."""

    def make() -> Iterator[Callable[..., RunningServer]]:
        with ExitStack() as stack:
            def start(seed: int = SEED, pupils: int | dict[str, int] = PUPILS, **config: Any) -> RunningServer:
                return stack.enter_context(serve_in_thread(fake_class(seed, pupils, **config)))

            yield start

    def shared() -> Iterator[RunningServer]:
        with serve_in_thread(fake_class(SEED, PUPILS)) as server:
            yield server

    def as_new(request: pytest.FixtureRequest) -> RunningServer:
        server: RunningServer = request.getfixturevalue(f"_shared_{service}_server")
        server.fake.reset()
        return server

    make.__doc__, as_new.__doc__ = make_doc, doc
    return (pytest.fixture(name=f"make_{service}_server")(make),
            pytest.fixture(name=f"_shared_{service}_server", scope="session")(shared),
            pytest.fixture(name=f"{service}_server")(as_new))


make_wonde_server, _shared_wonde_server, wonde_server = _fake_fixtures(
    "wonde", WondeFake,
    "Start fake Wonde servers: ``make_wonde_server(seed=1, pupils=60, **WondeConfig fields)``.",
    """A fake Wonde (seed 1, 60 pupils per school, token ``test-token``) on loopback, as new.

    One server serves the whole session; it is reset (data, config, faults, stats) before each test.
    """)

make_cpoms_server, _shared_cpoms_server, cpoms_server = _fake_fixtures(
    "cpoms", CpomsFake,
    """Start fake CPOMS servers: ``make_cpoms_server(seed=1, pupils=60, state_file=None, **CpomsConfig fields)``.

    Tokens: ``test-token-<school slug>`` for each demo school (``test-token`` is birchwood's).
    """,
    """A fake CPOMS (seed 1, 60 pupils per school, 60 requests/min per token) on loopback, as new.

    One server serves the whole session; it is reset (incidents, keys, alerts, config, stats) before each test.
    """)
