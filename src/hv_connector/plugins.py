"""Loading plugins and dispatching a school's questions to its own policy.

Built-ins are registered from :data:`BUILTIN_PLUGINS` exactly as external
plugins are; external plugins arrive through the ``hv_connector`` entry-point
group. Each policy plugin reports its school through ``policy_info``, and
:class:`Policies` keeps ``school id → plugin`` so that
:meth:`Policies.hook` can hand back a caller with every other school's plugin
removed (pluggy's ``subset_hook_caller``).

A broken plugin breaks only its own schools: each entry point is loaded on
its own, and one that fails to import, raises or answers the wrong type is
kept as a :class:`BrokenPlugin` (reported by ``hvc plugins``, ``hvc config
check``, ``hvc status`` and the dashboard) while every other school works as
before. The watch's two questions (``checkin_plan``, ``escalation_chain``)
never fail: a school whose policy cannot answer them gets the core's defaults,
opened by an alarm saying so (:mod:`hv_connector.fallback`).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import pluggy

from hv_connector import PROJECT, hookspecs
from hv_connector.errors import HvcError, PluginContractError, PolicyError, PolicyNotFound, PolicyUnavailable
from hv_connector.fallback import unreadable_answer
from hv_connector.models import (
    STAGE_ORDER,
    AttendanceTrigger,
    CheckInPlan,
    EscalationStep,
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
    "hv_connector.builtin.extensions",
)
"""Modules registered as plugins before any external one, each under its own name.

Kept cheap to import: plugins load on every command that asks a policy (``hvc status`` too), so the
built-in adapter, sink and notifiers are imported only when their hooks are called.
"""

WATCH_QUESTIONS: dict[str, str] = {
    "checkin_plan": "a CheckInPlan",
    "escalation_chain": "a non-empty list of EscalationStep",
}
"""The questions the watch asks of a school's policy, and the answer each must be: never left unanswered."""

log = logging.getLogger("hv_connector.plugins")

_FINDINGS_ARGS = ("visit", "stage", "ctx")
"""The arguments of ``visit_findings``, in the hookspec's order: what an implementation called directly takes."""


class HvcPluginManager(pluggy.PluginManager):
    """pluggy's plugin manager, plus the plugins that could not be loaded.

    ``failed`` maps an entry-point name (the name schools give as ``policy``) to
    what went wrong, in one line; ``distributions`` maps each loaded one to the
    distribution that installed it.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.failed: dict[str, str] = {}
        self.distributions: dict[str, importlib.metadata.Distribution] = {}


def build_plugin_manager(*, load_entrypoints: bool = True) -> HvcPluginManager:
    """A plugin manager with the hookspecs, the built-ins and (by default) every installed plugin.

    Each installed plugin is loaded on its own: one that cannot be loaded is
    recorded in ``pm.failed`` and left out, and the others load as before.
    """
    pm = HvcPluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.check_pending()
    if load_entrypoints:
        for entry_point in importlib.metadata.entry_points(group=PROJECT):
            _load_one(pm, entry_point)
    return pm


def _load_one(pm: HvcPluginManager, entry_point: importlib.metadata.EntryPoint) -> None:
    """Import and register one plugin, or record why not (pluggy's own loader stops at the first failure)."""
    name = entry_point.name
    if pm.has_plugin(name) or pm.is_blocked(name) or name in pm.failed:
        return
    try:
        plugin = entry_point.load()
    except Exception as exc:  # anything a plugin's import raises is that plugin's failure, and only its own
        pm.failed[name] = describe_failure(exc)
        return
    try:
        pm.register(plugin, name=name)
        pm.check_pending()  # a hook with a misspelt name fails here, not at first call
    except (pluggy.PluginValidationError, ValueError) as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        pm.failed[name] = describe_failure(exc)
        return
    if entry_point.dist is not None:
        pm.distributions[name] = entry_point.dist


def describe_failure(exc: BaseException) -> str:
    """What went wrong, in one line a person can act on: the error, and the plugin's file and line."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
    text = f"{type(exc).__name__}: {message}"
    frames = traceback.extract_tb(exc.__traceback__)
    # A SyntaxError's message already names file and line; our own errors' lines are ours, not the plugin's.
    if frames and not isinstance(exc, (SyntaxError, HvcError)):
        text += f" ({frames[-1].filename}, line {frames[-1].lineno})"
    return text


@dataclass(frozen=True)
class BrokenPlugin:
    """A policy plugin that could not be loaded or answered wrongly, and the configured schools it serves.

    Seen by the IT person in ``hvc plugins``, ``hvc config check``, ``hvc status`` and on the dashboard.
    """

    name: str
    """The plugin's entry-point name (what ``policy`` names in ``[schools.ID]``)."""
    error: str
    """What went wrong, in one line."""
    schools: tuple[str, ...] = ()
    """The configured schools that use it (none if no configured school names it)."""

    def __str__(self) -> str:
        serving = f"school(s) {', '.join(self.schools)}" if self.schools else "no configured school"
        return f"policy plugin {self.name!r} ({serving}) is broken: {self.error}"


def _distribution(pm: HvcPluginManager, plugin: object) -> importlib.metadata.Distribution | None:
    name = pm.get_name(plugin)
    return pm.distributions.get(name) if name is not None else None


def plugin_version(pm: HvcPluginManager, plugin: object) -> str | None:
    """The installed version of the distribution that provided ``plugin``, if any."""
    dist = _distribution(pm, plugin)
    return dist.version if dist is not None else None


def plugin_distribution(pm: HvcPluginManager, plugin: object) -> str | None:
    """The name of the distribution that provided ``plugin``, if any."""
    dist = _distribution(pm, plugin)
    return dist.metadata["Name"] if dist is not None else None


class Policies:
    """The installed policies, one per school, and the calls that go to them.

    ``configured`` maps school id to the name of the policy plugin the
    configuration says it uses (the entry-point name, e.g. ``"potton"``). When
    it is empty, every school a plugin serves is available under its own id.
    """

    def __init__(self, pm: HvcPluginManager, configured: Mapping[str, str] | None = None) -> None:
        self.pm = pm
        self.configured = dict(configured or {})
        self._callers: dict[tuple[str, str], Any] = {}
        self._answerers: dict[str, tuple[list[pluggy.HookImpl], tuple[Callable[..., Any], ...] | None]] = {}
        """School id → (the hook's implementations when looked at, the school's to call directly): see
        :meth:`_findings_answerers`."""
        self._contexts: dict[str, tuple[PolicyInfo, tuple[Reason, ...]]] = {}
        self._failed: dict[str, str] = dict(pm.failed)
        self._unreadable: dict[str, str] = {}
        """Plugin name → what went wrong: at import, in ``policy_info``, or when asked (:meth:`ask`)."""
        self._unanswering: list[object] = []
        """Loaded plugins whose ``policy_info`` failed: asked for no school, so they cannot answer for others."""

    @cached_property
    def _served(self) -> dict[str, tuple[str, object, PolicyInfo]]:
        """School id → (plugin name, plugin, info) for every policy plugin loaded and answering."""
        served: dict[str, tuple[str, object, PolicyInfo]] = {}
        for impl in self.pm.hook.policy_info.get_hookimpls():
            try:
                info = impl.function()
            except Exception as exc:  # the plugin's own bug: its schools are reported, the rest carry on
                self._set_aside(impl.plugin_name, impl.plugin, describe_failure(exc))
                continue
            if info is None:
                continue
            if not isinstance(info, PolicyInfo):
                self._set_aside(impl.plugin_name, impl.plugin,
                                f"policy_info answered {type(info).__name__}, not PolicyInfo")
                continue
            if info.school_id in served:
                other = served[info.school_id][0]
                raise PluginContractError(
                    f"plugins {other!r} and {impl.plugin_name!r} both claim school {info.school_id!r}; uninstall one"
                )
            served[info.school_id] = (impl.plugin_name, impl.plugin, info)
        return served

    def _set_aside(self, name: str, plugin: object, error: str) -> None:
        self._failed[name] = error
        self._unanswering.append(plugin)

    def _schools_using(self, name: str) -> tuple[str, ...]:
        """The configured schools whose policy is plugin ``name`` (with no configuration: the school it serves)."""
        if self.configured:
            return tuple(sorted(s for s, plugin in self.configured.items() if plugin == name))
        return tuple(s for s, (served_by, _, _) in sorted(self._served.items()) if served_by == name)

    def broken(self) -> list[BrokenPlugin]:
        """Every policy plugin that cannot be used, with the schools it leaves without their policy, by name.

        A plugin is broken when it failed to load, when ``policy_info``,
        ``visit_reasons`` or ``policy_rules`` (asked here, as every visit needs
        them) raise or answer the wrong type, or when it failed one of this
        run's :meth:`ask` calls.
        """
        for school in self.schools():
            try:
                self._policy(school)
                self.rules(school)
            except PolicyError:
                continue  # broken already, or missing (which `hvc config check` names)
            except Exception as exc:
                self._failed[self.plugin_for(school)[0]] = describe_failure(exc)
        return [BrokenPlugin(name, error, self._schools_using(name)) for name, error in sorted(self._failed.items())]

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
            served = self._served  # looking at every plugin's policy_info sets aside the broken ones
            if wanted in self._failed:
                raise self._unavailable(school_id, wanted)
            for name, plugin, info in served.values():
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

    def _unavailable(self, school_id: str, plugin: str) -> PolicyUnavailable:
        return PolicyUnavailable(
            f"school {school_id!r} uses policy plugin {plugin!r}, which is broken: {self._failed[plugin]}. "
            "Its visits cannot be checked until the plugin is fixed (see `hvc plugins`); "
            "visits already out are watched with the core's default chain. Other schools are not affected."
        )

    def hook(self, school_id: str, name: str) -> Any:
        """A caller for hook ``name`` that asks only ``school_id``'s plugin and the non-policy plugins."""
        key = (school_id, name)
        caller = self._callers.get(key)
        if caller is None:
            own = self.plugin_for(school_id)[1]
            others = [plugin for _, plugin, _ in self._served.values() if plugin is not own] + self._unanswering
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
            name, _, info = self.plugin_for(school_id)
            try:
                reasons = self.hook(school_id, "visit_reasons")() or []
                if not isinstance(reasons, list) or not all(isinstance(r, Reason) for r in reasons):
                    raise PluginContractError(f"visit_reasons answered {reasons!r:.80}, not a list of Reason")
            except Exception as exc:  # every visit of the school needs its reasons: the plugin is broken for it
                self._failed.setdefault(name, describe_failure(exc))
                raise self._unavailable(school_id, name) from exc
            cached = (info, tuple(reasons))
            self._contexts[school_id] = cached
        return cached

    def context(self, school_id: str, now: datetime, options: Mapping[str, Any] | None = None) -> PolicyContext:
        """The context rules see for ``school_id`` at ``now``."""
        info, reasons = self._policy(school_id)
        return PolicyContext.from_checked({"now": now, "policy": info, "reasons": reasons, "options": dict(options or {})})

    def triggers(self, school_id: str) -> list[AttendanceTrigger]:
        """The school's attendance triggers, its own first; one of its own replaces the core's of the same id."""
        found: dict[str, AttendanceTrigger] = {}
        for answer in self.hook(school_id, "attendance_triggers")():
            if not isinstance(answer, list) or not all(isinstance(t, AttendanceTrigger) for t in answer):
                raise PluginContractError(f"attendance_triggers answered {answer!r:.80}, not a list of AttendanceTrigger")
            for trigger in answer:
                found.setdefault(trigger.id, trigger)
        return list(found.values())

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
        return self._findings(visit, (stage,), self.context(visit.school, now, options))

    def all_findings(
        self,
        visit: Visit,
        now: datetime,
        options: Mapping[str, Any] | None = None,
        upto: Stage | None = None,
    ) -> list[Finding]:
        """Findings at every stage in order (or every stage up to and including ``upto``)."""
        stages = STAGE_ORDER if upto is None else STAGE_ORDER[: upto.order + 1]
        return self._findings(visit, stages, self.context(visit.school, now, options))

    def _findings(self, visit: Visit, stages: tuple[Stage, ...], ctx: PolicyContext) -> list[Finding]:
        """Every answer to ``visit_findings`` at each of ``stages`` in turn, flattened, as pluggy would give them."""
        answerers = self._findings_answerers(visit.school)
        if answerers is None:
            caller = self.hook(visit.school, "visit_findings")
            return [f for stage in stages for answer in caller(visit=visit, stage=stage, ctx=ctx) for f in answer]
        found: list[Finding] = []
        for stage in stages:
            for answer in answerers:
                answered = answer(visit, stage, ctx)
                if answered is not None:  # as pluggy does, a None answer is no answer
                    found.extend(answered)
        return found

    def _findings_answerers(self, school_id: str) -> tuple[Callable[..., Any], ...] | None:
        """The school's ``visit_findings`` implementations, in the order pluggy calls them, to call directly.

        Every visit asks this hook once per stage, and pluggy's own call (argument
        checks, the school's subset of implementations filtered afresh, the
        wrapper machinery) costs about as much as the school's rules. The plain
        implementations are kept here instead, and looked up again whenever the
        hook's registered implementations change. ``None`` when any of the
        school's implementations is a wrapper or takes other arguments: only
        pluggy runs those correctly, so the school is asked through it.
        """
        registered = self.pm.hook.visit_findings.get_hookimpls()
        cached = self._answerers.get(school_id)
        if cached is not None and cached[0] == registered:
            return cached[1]
        impls = self.hook(school_id, "visit_findings").get_hookimpls()
        plain = all(not (impl.wrapper or impl.hookwrapper or impl.kwargnames) and impl.argnames == _FINDINGS_ARGS
                    for impl in impls)
        answerers = tuple(impl.function for impl in reversed(impls)) if plain else None
        self._answerers[school_id] = (registered, answerers)
        return answerers

    def ask(self, school_id: str, name: str, **kwargs: Any) -> Any:
        """Call school-policy hook ``name`` for ``school_id`` with ``kwargs``.

        The watch's questions (:data:`WATCH_QUESTIONS`) are always answered: when
        the school's policy cannot be read, or raises, or answers the wrong type,
        the failure is recorded (see :meth:`broken`) and the core's default plan
        or chain comes back, opened by an alarm saying the policy could not be read.
        """
        if name not in WATCH_QUESTIONS:
            return self.hook(school_id, name)(**kwargs)
        try:
            return self._checked(name, self.hook(school_id, name)(**kwargs))
        except Exception as exc:  # whatever the plugin did wrong, staff who are out are still watched
            plugin = self.configured.get(school_id) or (self._served[school_id][0] if school_id in self._served else None)
            error = self._failed.get(plugin or "") or describe_failure(exc)
            log.error("school %s's policy could not answer %s (%s): using the core's default", school_id, name, error)
            self._unreadable[school_id] = error
            if plugin is not None and not isinstance(exc, PolicyNotFound):  # a missing plugin is not a broken one
                self._failed.setdefault(plugin, error)
            core = self.pm.subset_hook_caller(name, remove_plugins=self._policy_plugins())
            return unreadable_answer(name, core(**kwargs), school_id, error)

    def unreadable(self, school_id: str) -> str | None:
        """Why ``school_id``'s policy could not answer the watch in this run (so the core's default was used), if it could not."""
        return self._unreadable.get(school_id)

    def _policy_plugins(self) -> list[object]:
        return [plugin for _, plugin, _ in self._served.values()] + self._unanswering

    @staticmethod
    def _checked(name: str, answer: Any) -> Any:
        """``answer`` if it is what the watch's question ``name`` needs, else a :class:`PluginContractError`."""
        fine = (isinstance(answer, CheckInPlan) if name == "checkin_plan" else
                isinstance(answer, (list, tuple)) and bool(answer) and all(isinstance(s, EscalationStep) for s in answer))
        if not fine:
            raise PluginContractError(f"{name} answered {answer!r:.80}, not {WATCH_QUESTIONS[name]}")
        return answer


def merged_registry(pm: pluggy.PluginManager, hook_name: str) -> dict[str, Any]:
    """Merge the name → factory mappings every plugin returns for an extension hook."""
    merged: dict[str, Any] = {}
    for answer in getattr(pm.hook, hook_name)():
        for name, factory in (answer or {}).items():
            if name in merged:
                raise PluginContractError(f"two plugins register {hook_name} entry {name!r}; uninstall one")
            merged[name] = factory
    return merged
