"""The ``hvc`` process's start-up: no garbage collection while a command's modules load.

Loading ``hvc status`` leaves some 60,000 objects (SQLAlchemy, pydantic, our
tables and models) that live as long as the process. While they load, the
collector walks them again and again, at once the largest cost of a cron job's
start beyond its libraries' own import. So the console script holds the collector
off (:func:`hold_collector`); once the command's module has loaded,
:func:`release_collector` sets everything loaded so far aside for good
(:func:`gc.freeze`: it is never garbage) and turns collection back on, so a
long-running ``hvc watch`` or dashboard collects what it makes as usual.

Only the console script holds the collector: :func:`~hv_connector.cli.main`
called from other code (the tests, in their own process) leaves it alone.
"""

from __future__ import annotations

import gc

_held = False


def hold_collector() -> None:
    """Turn garbage collection off until :func:`release_collector`."""
    global _held
    gc.disable()
    _held = True


def release_collector() -> None:
    """If :func:`hold_collector` turned collection off: freeze what is loaded, and collect from here on."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
