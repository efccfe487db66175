"""Loading plugins and dispatching a school's questions to its own policy.

Built-ins are registered from :data:`BUILTIN_PLUGINS` exactly as external
plugins are; external plugins arrive through the ``hv_connector`` entry-point
group. Each policy plugin reports its school through ``policy_info``, and
:class:`Policies` keeps ``school id → plugin`` so that
:meth:`Policies.hook` can hand back a caller with every other school's plugin
removed (pluggy's ``subset_hook_caller``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

import pluggy

from hv_connector import PROJECT, hookspecs
from hv_connector.errors import PluginContractError, PolicyNotFound
from hv_connector.models import (
    STAGE_ORDER,
    Finding,
    PolicyContext,
    PolicyInfo,
    Reason,
    RuleInfo,
    Stage,
    Visit,
)

BUILTIN_PLUGINS: tuple[str, ...] = (
    "hv_connector.builtin.core_rules",
    "hv_connector.builtin.notifiers",
    "hv_connector.builtin.cpoms_sink",
    "hv_connector.builtin.wonde_adapter",
)
"""Modules registered as plugins before any external one, each under its own name."""


def build_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs, the built-ins and (by default) every installed plugin."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(PROJECT)
    pm.check_pending()
    return pm


def plugin_version(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """The installed version of the distribution that provided ``plugin``, if any."""
    for candidate, dist in pm.list_plugin_distinfo():
        if candidate is plugin:
            return str(dist.version)
    return None


def plugin_distribution(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """The name of the distribution that provided ``plugin``, if any."""
    for candidate, dist in pm.list_plugin_distinfo():
        if candidate is plugin:
            return dist.project_name
    return None


class Policies:
    """The installed policies, one per school, and the calls that go to them.

    ``configured`` maps school id to the name of the policy plugin the
    configuration says it uses (the entry-point name, e.g. ``"potton"``). When
    it is empty, every school a plugin serves is available under its own id.
    """

    def __init__(self, pm: pluggy.PluginManager, configured: Mapping[str, str] | None = None) -> None:
        self.pm = pm
        self.configured = dict(configured or {})
        self._callers: dict[tuple[str, str], Any] = {}
        self._contexts: dict[str, tuple[PolicyInfo, tuple[Reason, ...]]] = {}

    @cached_property
    def _served(self) -> dict[str, tuple[str, object, PolicyInfo]]:
        """School id → (plugin name, plugin, info) for every policy plugin loaded."""
        served: dict[str, tuple[str, object, PolicyInfo]] = {}
        for impl in self.pm.hook.policy_info.get_hookimpls():
            info = impl.function()
            if info is None:
                continue
            if not isinstance(info, PolicyInfo):
                raise PluginContractError(
                    f"plugin {impl.plugin_name!r} answered policy_info with {type(info).__name__}, not PolicyInfo"
                )
            if info.school_id in served:
                other = served[info.school_id][0]
                raise PluginContractError(
                    f"plugins {other!r} and {impl.plugin_name!r} both claim school {info.school_id!r}; uninstall one"
                )
            served[info.school_id] = (impl.plugin_name, impl.plugin, info)
        return served

    def schools(self) -> list[str]:
        """The school ids that can be checked: the configured ones, or every one served."""
        return sorted(self.configured) if self.configured else sorted(self._served)

    def policy_plugins(self) -> list[tuple[str, object, PolicyInfo]]:
        """(name, plugin, info) of every loaded policy plugin, by school id, configured for a school or not."""
        return [self._served[s] for s in sorted(self._served)]

    def infos(self) -> list[PolicyInfo]:
        """Policy info of every loaded policy plugin, by school id."""
        return [info for _, _, info in self.policy_plugins()]

    def plugin_for(self, school_id: str) -> tuple[str, object, PolicyInfo]:
        """The (name, plugin, info) serving ``school_id``, or :class:`PolicyNotFound`."""
        wanted = self.configured.get(school_id)
        if self.configured and wanted is None:
            raise PolicyNotFound(
                f"school {school_id!r} is not configured; configured schools: {', '.join(sorted(self.configured)) or 'none'}. "
                "Add it under [schools] in hvc.toml (see `hvc config show`)."
            )
        if wanted is not None:
            for name, plugin, info in self._served.values():
                if name == wanted:
                    return name, plugin, info
            installed = ", ".join(sorted(n for n, _, _ in self._served.values())) or "none"
            raise PolicyNotFound(
                f"school {school_id!r} uses policy plugin {wanted!r}, which is not installed "
                f"(installed policy plugins: {installed}). Install it with `pip install hvc-{wanted}` "
                f"(from a checkout: `pip install -e plugins/{wanted}`), then run `hvc plugins` to check."
            )
        if school_id not in self._served:
            installed = ", ".join(sorted(self._served)) or "none"
            raise PolicyNotFound(
                f"no installed policy plugin serves school {school_id!r} (schools served: {installed}). "
                f"Install the school's plugin, e.g. `pip install hvc-{school_id}`, or write one: `hvc plugins new {school_id}`."
            )
        return self._served[school_id]

    def hook(self, school_id: str, name: str) -> Any:
        """A caller for hook ``name`` that asks only ``school_id``'s plugin and the non-policy plugins."""
        key = (school_id, name)
        caller = self._callers.get(key)
        if caller is None:
            own = self.plugin_for(school_id)[1]
            others = [plugin for _, plugin, _ in self._served.values() if plugin is not own]
            caller = self.pm.subset_hook_caller(name, remove_plugins=others)
            self._callers[key] = caller
        return caller

    def info(self, school_id: str) -> PolicyInfo:
        return self.plugin_for(school_id)[2]

    def reasons(self, school_id: str) -> list[Reason]:
        return list(self._policy(school_id)[1])

    def _policy(self, school_id: str) -> tuple[PolicyInfo, tuple[Reason, ...]]:
        cached = self._contexts.get(school_id)
        if cached is None:
            reasons = self.hook(school_id, "visit_reasons")() or []
            cached = (self.info(school_id), tuple(reasons))
            self._contexts[school_id] = cached
        return cached

    def context(self, school_id: str, now: datetime, options: Mapping[str, Any] | None = None) -> PolicyContext:
        """The context rules see for ``school_id`` at ``now``."""
        info, reasons = self._policy(school_id)
        return PolicyContext.model_construct(now=now, policy=info, reasons=reasons, options=dict(options or {}))

    def rules(self, school_id: str) -> list[RuleInfo]:
        """Every rule that applies to the school: its own, then the core's."""
        return [rule for answer in self.hook(school_id, "policy_rules")() for rule in answer]

    def findings(
        self,
        visit: Visit,
        stage: Stage,
        now: datetime,
        options: Mapping[str, Any] | None = None,
    ) -> list[Finding]:
        """The findings of the visit's school's policy (and the core) at ``stage``."""
        ctx = self.context(visit.school, now, options)
        answers = self.hook(visit.school, "visit_findings")(visit=visit, stage=stage, ctx=ctx)
        return [finding for answer in answers for finding in answer]

    def all_findings(
        self,
        visit: Visit,
        now: datetime,
        options: Mapping[str, Any] | None = None,
        upto: Stage | None = None,
    ) -> list[Finding]:
        """Findings at every stage in order (or every stage up to and including ``upto``)."""
        stages = STAGE_ORDER if upto is None else STAGE_ORDER[: upto.order + 1]
        ctx = self.context(visit.school, now, options)
        caller = self.hook(visit.school, "visit_findings")
        return [f for stage in stages for answer in caller(visit=visit, stage=stage, ctx=ctx) for f in answer]

    def ask(self, school_id: str, name: str, **kwargs: Any) -> Any:
        """Call school-policy hook ``name`` for ``school_id`` with ``kwargs``."""
        return self.hook(school_id, name)(**kwargs)


def merged_registry(pm: pluggy.PluginManager, hook_name: str) -> dict[str, Any]:
    """Merge the name → factory mappings every plugin returns for an extension hook."""
    merged: dict[str, Any] = {}
    for answer in getattr(pm.hook, hook_name)():
        for name, factory in (answer or {}).items():
            if name in merged:
                raise PluginContractError(f"two plugins register {hook_name} entry {name!r}; uninstall one")
            merged[name] = factory
    return merged
