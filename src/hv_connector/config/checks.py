"""Showing settings safely (secrets redacted) and what ``hvc config check`` reports as wrong."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from hv_connector.config.loading import ConfigSource
from hv_connector.config.messages import setting_fix
from hv_connector.config.settings import REDACTED, SchoolSettings, Settings, is_secret_name, masked_url, url_password
from hv_connector.errors import ConfigError, PolicyError, PolicyNotFound, PolicyUnavailable
from hv_connector.models import EscalationStep, Visit
from hv_connector.plugins import Policies, describe_failure

if TYPE_CHECKING:
    from hv_connector.sync.pipeline import MisAdapterFactory


def redacted(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, every secret shown as ``**********`` (the database password too)."""
    shown: dict[str, Any] = _redact(settings)
    shown["database"]["url"] = masked_url(settings.database.url)
    # Keyed by id, as hvc.toml writes them ([schools.potton]).
    shown["schools"] = {school.pop("id"): school for school in shown["schools"]}
    return shown


def _redact(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, BaseModel):
        return {name: _redact(getattr(value, name)) for name in (*type(value).model_fields, *(value.model_extra or {}))}
    if isinstance(value, Mapping):
        return {str(k): _redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def secret_values(settings: Settings) -> Iterator[str]:
    """Every secret's value (for tests and log filters that must prove none leaks)."""
    password = url_password(settings.database.url)
    if password:
        yield password
    stack: list[Any] = [settings]
    while stack:
        value = stack.pop()
        if isinstance(value, SecretStr):
            if value.get_secret_value():
                yield value.get_secret_value()
        elif isinstance(value, BaseModel):
            stack.extend(getattr(value, name) for name in type(value).model_fields)
            stack.extend((value.model_extra or {}).values())  # a sink's own settings, e.g. its token
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)


@dataclass(frozen=True)
class Problem:
    """One thing ``hvc config check`` found wrong: the setting and what to do."""

    setting: str
    message: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


def problems(settings: Settings, source: ConfigSource) -> list[Problem]:
    """What stops the configured schools from syncing, pushing or being watched. Plugins (policies and MIS
    adapters, :func:`mis_problems`) are checked by the CLI."""
    found: list[Problem] = []
    file = source.path.name
    if not settings.schools:
        where = f"in {source.path}" if source.exists else f"in {source.path} (it does not exist yet)"
        found.append(Problem(
            "schools",
            f"no school is configured: add a [schools.ID] table with `name` and `policy` {where}; "
            "see \"Configure for a school\" in the README",
        ))
    for school in settings.schools:
        if not settings.staff.get(school.id):
            found.append(Problem(
                f"staff.{school.id}",
                f"school {school.id} has no staff directory, so nobody can request or authorise its visits: "
                f"add [[staff.{school.id}]] entries (id, name, roles) to {file}",
            ))
    configured = {s.id for s in settings.schools}
    for school_id, members in settings.staff.items():
        if school_id not in configured:
            found.append(Problem(
                f"staff.{school_id}",
                f"staff are listed for school {school_id!r}, which is not configured: "
                f"add [schools.{school_id}] or remove [[staff.{school_id}]]",
            ))
        ids = [m.id for m in members]
        for twice in sorted({i for i in ids if ids.count(i) > 1}):
            found.append(Problem(f"staff.{school_id}", f"staff id {twice!r} appears twice; staff ids must be unique"))
    if source.exists and _file_holds_secrets(source.path) and stat.S_IMODE(source.path.stat().st_mode) & 0o077:
        found.append(Problem(
            "config file",
            f"{source.path} holds tokens but others can read it: run `chmod 600 {source.path}`",
        ))
    return found


def mis_problems(settings: Settings, adapters: Mapping[str, MisAdapterFactory], config_file: str) -> list[Problem]:
    """What each syncing school's MIS adapter says it lacks (its ``settings_problems``), or that no installed
    plugin registers the adapter the school names. The same problem for several schools is listed once."""
    schools_by_problem: dict[Problem, list[str]] = {}
    for school in (s for s in settings.schools if s.syncs):
        factory = adapters.get(school.mis)
        if factory is None:
            found = [Problem(f"schools.{school.id}.mis", missing_adapter(school, adapters))]
        else:
            found = factory.settings_problems(settings, school, config_file)
        for problem in found:
            schools_by_problem.setdefault(problem, []).append(school.id)
    return [problem if len(ids) == 1 and problem.setting.startswith(f"schools.{ids[0]}.")
            else Problem(problem.setting, f"{problem.message} (school(s) {', '.join(ids)} sync through it)")
            for problem, ids in schools_by_problem.items()]


def sink_problems(settings: Settings, sink_for: Callable[[str], object]) -> list[Problem]:
    """What stops each school's report sink from being built (a missing token, an unknown sink), one per school.

    :param sink_for: builds a school's sink (:func:`hv_connector.outbox.sinks.open_sinks`); nothing is opened.
    """
    found: list[Problem] = []
    for school in settings.schools:
        try:
            sink_for(school.id)
        except ConfigError as exc:
            found.append(Problem(f"schools.{school.id}.sink", str(exc)))
    return found


def missing_adapter(school: SchoolSettings, adapters: Mapping[str, Any]) -> str:
    """Why ``school``'s ``mis`` names no adapter, and what to do."""
    return (f"school {school.id} asks for the MIS adapter {school.mis!r}, which no installed plugin registers "
            f"(installed: {', '.join(sorted(adapters)) or 'none'}): {setting_fix(['schools', school.id, 'mis'])}, "
            "or install the plugin that provides it")


def plugin_problems(settings: Settings, policies: Policies) -> list[Problem]:
    """One problem per broken policy plugin (naming its schools and its error), and per school whose is missing."""
    found = [Problem(f"plugins.{broken.name}",
                     f"{broken}: fix the plugin (or reinstall it) and run `hvc plugins`; the other schools are not affected")
             for broken in policies.broken()]
    for school in settings.schools:
        try:
            policies.plugin_for(school.id)
        except PolicyUnavailable:
            continue  # its broken plugin is named above
        except PolicyNotFound as exc:
            found.append(Problem(f"schools.{school.id}.policy", str(exc)))
    return found


def option_problems(settings: Settings, policies: Policies, config_file: Path, now: datetime) -> list[Problem]:
    """One problem per policy option a school's plugin cannot read (``policy_option_problems``), naming the file.

    A school whose plugin is missing or broken is skipped: :func:`plugin_problems` names it.
    """
    found: list[Problem] = []
    for school in _answering(settings, policies):
        try:
            ctx = policies.context(school, now, settings.school(school).options)
        except PolicyError:
            continue  # its broken plugin is named by plugin_problems
        try:
            answers = policies.hook(school, "policy_option_problems")(ctx=ctx, config_file=str(config_file))
        except Exception as exc:  # the plugin's own bug: name it rather than stop every other check
            found.append(Problem(f"schools.{school}.options", f"the policy could not check its options: "
                                                               f"{describe_failure(exc)}"))
            continue
        found += [Problem(f"schools.{school}.options", message) for answer in answers for message in answer]
    return found


def unreachable_steps(settings: Settings, policies: Policies, config_file: Path, now: datetime, *,
                      chain_visit: Callable[[str, datetime], Visit], visiting_staff: str) -> list[Problem]:
    """One problem per escalation step whose roles nobody in the school's directory holds.

    The chain is the one the watch would run for ``chain_visit(school, now)`` (the drill's visit);
    ``visiting_staff`` is the role that reaches the staff out on the visit, who are always there.
    """
    found: list[Problem] = []
    for school in _answering(settings, policies):
        held = {role for member in settings.staff.get(school, []) for role in member.roles} | {visiting_staff}
        chain: list[EscalationStep] = policies.ask(school, "escalation_chain", visit=chain_visit(school, now))
        for number, step in enumerate(chain, 1):
            if held.isdisjoint(step.who):
                found.append(Problem(
                    f"staff.{school}",
                    f"step {number} of {school}'s escalation chain ({step.action}) reaches "
                    f"{', '.join(step.who)}, and nobody in [[staff.{school}]] holds that role: give the person "
                    f"who takes this step the role {step.who[0]!r} in {config_file}",
                ))
    return found


def _answering(settings: Settings, policies: Policies) -> list[str]:
    """The configured schools whose policy plugin is installed and answering."""
    schools = []
    for school in settings.schools:
        try:
            policies.plugin_for(school.id)
        except PolicyError:
            continue
        schools.append(school.id)
    return schools


def _file_holds_secrets(path: Path) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return any((is_secret_name(k) and v) or walk(v) for k, v in value.items())
        return isinstance(value, list) and any(walk(v) for v in value)

    return walk(tomllib.loads(path.read_text(encoding="utf-8")))

