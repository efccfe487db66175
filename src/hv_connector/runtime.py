"""What a command needs to run: settings, plugins, policies, the store and the clock, each built on first use.

Nothing is read before it is needed: ``hvc policy check`` on a visit file
works with no configuration at all, and a command that never touches the
store never opens one.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from hv_connector.clock import Clock, clock_from_environment
from hv_connector.config.loading import load_settings
from hv_connector.config.settings import SchoolSettings, Settings
from hv_connector.models import StaffMember
from hv_connector.plugins import HvcPluginManager, Policies, build_plugin_manager
from hv_connector.store import Store


class Runtime:
    """The settings, plugin manager, policies, store and clock of one run of ``hvc`` (or of a test).

    :param config_path: the file ``--config`` named (default: ``HVC_CONFIG``, else ``hvc.toml``).
    :param settings: ready-made settings (tests); skips reading the environment and the file.
    :param store: an open store (tests); by default the one ``settings.database.url`` names.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        pm: HvcPluginManager | None = None,
        settings: Settings | None = None,
        config_path: Path | str | None = None,
        store: Store | None = None,
    ) -> None:
        self.clock: Clock = clock or clock_from_environment(dict(os.environ))
        self.config_path = config_path
        self._pm = pm
        self._settings = settings
        self._store = store

    @cached_property
    def settings(self) -> Settings:
        return self._settings or load_settings(self.config_path)

    @cached_property
    def pm(self) -> HvcPluginManager:
        return self._pm or build_plugin_manager()

    @cached_property
    def policies(self) -> Policies:
        """The schools' policies: the configured school → plugin map, or every installed plugin's school."""
        configured = {school.id: school.policy for school in self.settings.schools}
        return Policies(self.pm, configured=configured)

    @cached_property
    def store(self) -> Store:
        return self._store or Store.open(self.settings.database.url)

    def school(self, school_id: str) -> SchoolSettings:
        """The configured school, or a :class:`~hv_connector.errors.ConfigError` naming the configured ones."""
        return self.settings.school(school_id)

    def options(self, school_id: str) -> dict[str, Any]:
        """The options ``school_id``'s policy rules read (empty when the school is not configured)."""
        school = next((s for s in self.settings.schools if s.id == school_id), None)
        return dict(school.options) if school else {}

    def staff(self, school_id: str) -> dict[str, StaffMember]:
        """``school_id``'s staff directory, by staff id."""
        return self.settings.staff_of(school_id)

    def staff_names(self, school_id: str) -> dict[str, str]:
        """Staff id → name in ``school_id``'s directory, for :func:`hv_connector.humanize.person`."""
        return {staff_id: member.name for staff_id, member in self.staff(school_id).items()}

    def close(self) -> None:
        """Close the store if this runtime opened it."""
        if self._store is None and "store" in self.__dict__:
            self.store.close()
