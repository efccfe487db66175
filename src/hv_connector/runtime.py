"""What a command needs to run: the plugins, the policies and the clock, built once."""

from __future__ import annotations

from functools import cached_property

import pluggy

from hv_connector.clock import Clock, SystemClock
from hv_connector.plugins import Policies, build_plugin_manager


class Runtime:
    """The plugin manager, policies and clock of one run of ``hvc`` (or of a test)."""

    def __init__(self, *, clock: Clock | None = None, pm: pluggy.PluginManager | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._pm = pm

    @cached_property
    def pm(self) -> pluggy.PluginManager:
        return self._pm or build_plugin_manager()

    @cached_property
    def policies(self) -> Policies:
        return Policies(self.pm)
