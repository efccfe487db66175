"""Declaring a policy's rules: a :class:`RuleBook` of small check functions.

A plugin author writes one function per rule id and lets the book answer the
``policy_rules`` and ``visit_findings`` hooks::

    book = RuleBook("potton")

    @book.rule("potton.code-word", stage=Stage.SIGN_OUT, severity=Severity.BLOCK,
               clause="Potton §4 Personal safety", summary="A code word is set.",
               fields=("risk_assessment.code_word",))
    def code_word(visit, ctx):
        if not (visit.risk_assessment and visit.risk_assessment.code_word_agreed):
            return "Agree a code word with the office before you leave."

A check returns ``None`` when the rule holds, the message when it is broken,
or a :class:`Verdict` to give a lower severity or name particular fields.
:func:`staff_away` and :func:`overdue_by` answer what every school's
escalation rule asks: are staff still out, and how late are they?
:func:`contact_made` asks whether a check-in was made, counting contacts
as the watch counts them (:data:`CONTACT_KINDS`).
:func:`time_option` and :func:`hours_option` read a school's configured times
of day, and name the option when it is wrong. A plugin declares each option
it reads with :meth:`RuleBook.option`, so ``hvc config check`` and the watch
read every configured option up front (the ``policy_option_problems`` hook)
instead of a visit finding out::

    @book.option("school_day")
    def school_day(ctx):
        return hours_option(ctx, "school_day", ("08:45", "15:15"))

:func:`reported` reads what staff said at their latest check-in (parents
present, minutes waited at the door, animals shut away, gone in), so a
``during`` rule can answer while they are still out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from hv_connector import hookimpl
from hv_connector.errors import ConfigError, PluginContractError, excerpt
from hv_connector.models import (
    Finding,
    PolicyContext,
    PolicyInfo,
    Reason,
    RiskTemplate,
    RuleInfo,
    Severity,
    Stage,
    Visit,
)


@dataclass(frozen=True)
class Verdict:
    """A broken rule, when the check wants more than a message."""

    message: str
    severity: Severity | None = None
    """Defaults to the rule's severity; a rule may answer more softly (e.g. warn)."""
    fields: tuple[str, ...] | None = None


CheckResult = None | str | Verdict | Iterable[Verdict]
Check = Callable[[Visit, PolicyContext], CheckResult]
OptionReader = Callable[[PolicyContext], Any]
"""Reads one school option from the context, raising :class:`OptionError` when it is wrong."""


@dataclass(frozen=True)
class Rule:
    info: RuleInfo
    check: Check


class RuleBook:
    """The rules of one policy, indexed by stage."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._rules: list[Rule] = []
        self._by_stage: dict[Stage, list[Rule]] = {stage: [] for stage in Stage}
        self._options: dict[str, OptionReader] = {}

    def rule(
        self,
        rule_id: str,
        *,
        stage: Stage,
        severity: Severity,
        clause: str,
        summary: str,
        fields: tuple[str, ...] = (),
    ) -> Callable[[Check], Check]:
        """Register the decorated function as the check for ``rule_id``."""
        if not rule_id.startswith(self.namespace + "."):
            raise PluginContractError(f"rule id {rule_id!r} must start with {self.namespace + '.'!r}")
        if any(r.info.rule_id == rule_id for r in self._rules):
            raise PluginContractError(f"rule id {rule_id!r} is declared twice")
        info = RuleInfo(rule_id=rule_id, stage=stage, severity=severity, summary=summary, clause=clause, fields=fields)

        def register(check: Check) -> Check:
            rule = Rule(info=info, check=check)
            self._rules.append(rule)
            self._by_stage[stage].append(rule)
            return check

        return register

    def option(self, name: str) -> Callable[[OptionReader], OptionReader]:
        """Declare the decorated function as the reader of school option ``name`` (for :meth:`option_problems`)."""
        if name in self._options:
            raise PluginContractError(f"option {name!r} is declared twice in {self.namespace!r}")

        def register(reader: OptionReader) -> OptionReader:
            self._options[name] = reader
            return reader

        return register

    def option_problems(self, ctx: PolicyContext, config_file: str) -> list[str]:
        """What is wrong with ``ctx.options`` for this book: options it does not read, values it cannot read.

        Each message names the option, the fix and ``config_file`` (the file the settings were read from).
        """
        school = _school(ctx)
        found = []
        for name in sorted(set(ctx.options) - set(self._options)):
            reads = ", ".join(sorted(self._options)) or "none"
            found.append(f"{school}'s policy reads no option {name!r} (it reads: {reads}): remove it or correct "
                         f"the spelling under [schools.{school}.options] in {config_file}")
        for reader in self._options.values():
            try:
                reader(ctx)
            except OptionError as exc:
                found.append(exc.in_file(config_file))
        return found

    def rules(self) -> list[RuleInfo]:
        """Every rule, in declaration order."""
        return [rule.info for rule in self._rules]

    def findings(self, visit: Visit, stage: Stage, ctx: PolicyContext) -> list[Finding]:
        """Run the checks of ``stage`` and turn every broken rule into a finding."""
        out: list[Finding] = []
        for rule in self._by_stage[stage]:
            result = rule.check(visit, ctx)
            if result is None:
                continue
            for verdict in _verdicts(result):
                out.append(_finding(rule.info, verdict))
        return out


def _verdicts(result: CheckResult) -> Iterable[Verdict]:
    if isinstance(result, str):
        return (Verdict(result),)
    if isinstance(result, Verdict):
        return (result,)
    return tuple(result)  # type: ignore[arg-type]


def _finding(info: RuleInfo, verdict: Verdict) -> Finding:
    # Built without re-validation: the rule's info was validated when declared,
    # and this runs for every rule on every transition.
    return Finding.model_construct(
        rule_id=info.rule_id,
        stage=info.stage,
        severity=verdict.severity or info.severity,
        message=verdict.message,
        clause=info.clause,
        fields=verdict.fields if verdict.fields is not None else info.fields,
    )


def staff_away(visit: Visit) -> bool:
    """Staff have signed out for the visit and are not back yet."""
    return visit.signed_out_at is not None and visit.returned_at is None


def overdue_by(visit: Visit, ctx: PolicyContext) -> timedelta | None:
    """How far past its expected return the visit is at ``ctx.now`` while staff are away;
    ``None`` when they are back or not yet due."""
    if not staff_away(visit) or visit.expected_return is None or ctx.now <= visit.expected_return:
        return None
    return ctx.now - visit.expected_return


CONTACT_KINDS: dict[str, frozenset[str]] = {
    "office-call": frozenset({"office-call", "staff-call", "arrived"}),
    "staff-call": frozenset({"staff-call", "office-call", "arrived"}),
    "left-home": frozenset({"left-home"}),
    "home-safe": frozenset({"home-safe"}),
    "interval": frozenset({"office-call", "staff-call", "arrived", "left-home", "interruption"}),
}
"""Which recorded check-in kinds meet a check-in plan step of each kind: any two-way call is contact.

The watch and the rules read this one table, so a rule never reports missing a contact the watch counted.
"""


def contact_made(visit: Visit, step_kind: str, since: datetime) -> bool:
    """Whether a check-in that meets a ``step_kind`` step (see :data:`CONTACT_KINDS`) was made at or after ``since``."""
    kinds = CONTACT_KINDS[step_kind]
    return any(c.kind in kinds and c.at >= since for c in visit.check_ins)


def time_option(ctx: PolicyContext, name: str, default: str) -> time:
    """The school option ``name`` as a time of day (``"17:30"``), or ``default`` when it is not set.

    A value that is not a time of day is a :class:`~hv_connector.errors.ConfigError` naming the option.
    """
    return _time_of_day(ctx, name, ctx.option(name, default), '"17:30"')


def hours_option(ctx: PolicyContext, name: str, default: tuple[str, str]) -> tuple[time, time]:
    """The school option ``name`` as opening and closing times (``["08:45", "15:15"]``), or ``default``.

    Anything but two times of day, the first before the second, is a
    :class:`~hv_connector.errors.ConfigError` naming the option.
    """
    value = ctx.option(name, default)
    example = '["08:45", "15:15"]'
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _option_error(ctx, name, value, f"give two times of day, e.g. {example}")
    opens, closes = (_time_of_day(ctx, name, part, example) for part in value)
    if opens >= closes:
        raise _option_error(ctx, name, value, f"give the opening time first, e.g. {example}")
    return opens, closes


def _time_of_day(ctx: PolicyContext, name: str, value: Any, example: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise _option_error(ctx, name, value, f"give a time of day, e.g. {example}") from None


class OptionError(ConfigError):
    """A school's policy option its plugin cannot read. Seen by the IT person (``hvc config check``, the
    watch starting, or a visit being checked); names the option, the fix and the config file."""

    def __init__(self, school: str, option: str, value: Any, fix: str, config_file: str = "hvc.toml") -> None:
        self.school, self.option, self.value, self.fix = school, option, value, fix
        super().__init__(f"{school}'s policy option {option} is {excerpt(value)}: {fix} under "
                         f"[schools.{school}.options] in {config_file}")

    def in_file(self, config_file: str) -> str:
        """The message, naming ``config_file`` (the file actually read) instead of ``hvc.toml``."""
        return str(OptionError(self.school, self.option, self.value, self.fix, config_file))


def _school(ctx: PolicyContext) -> str:
    return ctx.policy.school_id if ctx.policy else "the school"


def _option_error(ctx: PolicyContext, name: str, value: Any, fix: str) -> OptionError:
    return OptionError(_school(ctx), name, value, fix)


def reported(visit: Visit, name: str) -> Any:
    """What staff said about ``name`` at their latest check-in that said anything about it, else ``None``.

    ``name`` is a :class:`~hv_connector.models.CheckIn` field that is ``None`` until reported:
    ``parents_present``, ``waited_minutes``, ``animals_secured``, ``entered_home``.
    """
    return next((said for c in reversed(visit.check_ins) if (said := getattr(c, name)) is not None), None)


class RuleBookPolicy:
    """Base class for a policy plugin whose rules live in a :class:`RuleBook`.

    Answers ``policy_rules`` and ``visit_findings`` from the class's ``book``,
    and ``policy_info``, ``visit_reasons`` and ``risk_assessment_template`` from
    ``policy``, ``reasons`` and ``risk_template`` when the subclass sets them
    (unset, the hook answers ``None``, which pluggy drops); the subclass answers
    the other school-policy hooks its policy needs.
    """

    book: RuleBook
    policy: PolicyInfo | None = None
    """The school and the document the plugin encodes."""
    reasons: tuple[Reason, ...] | None = None
    """The reasons for a home visit the policy gives."""
    risk_template: RiskTemplate | None = None
    """The risk assessment every visit of the school fills in."""

    @hookimpl
    def policy_info(self) -> PolicyInfo | None:
        """The class's ``policy``."""
        return self.policy

    @hookimpl
    def visit_reasons(self) -> list[Reason] | None:
        """The class's ``reasons``."""
        return None if self.reasons is None else list(self.reasons)

    @hookimpl
    def risk_assessment_template(self, visit: Visit) -> RiskTemplate | None:
        """The class's ``risk_template``."""
        return self.risk_template

    @hookimpl
    def policy_rules(self) -> list[RuleInfo]:
        """Every rule in the plugin's book."""
        return self.book.rules()

    @hookimpl
    def visit_findings(self, visit: Visit, stage: Stage, ctx: PolicyContext) -> list[Finding]:
        """The book's findings on ``visit`` at ``stage``."""
        return self.book.findings(visit, stage, ctx)

    @hookimpl
    def policy_option_problems(self, ctx: PolicyContext, config_file: str) -> list[str]:
        """The book's :meth:`RuleBook.option_problems`: options it does not read, values it cannot read."""
        return self.book.option_problems(ctx, config_file)
