"""The hv-connector plugin contract.

Hooks fall into two groups.

**School-policy hooks** answer questions about one school's home-visit policy.
The core asks them through :meth:`hv_connector.plugins.Policies.hook`, which
calls *only* that school's policy plugin and the built-in core plugin
(``hv_connector.builtin.core_rules``): Potton's plugin is never asked about a
Washwood visit, so no plugin checks "is this my school?". The core's own
answers are ``trylast``, so the school answers first; for ``firstresult``
hooks the school's answer wins and the core's is the fallback.

**Extension hooks** are asked of every plugin: MIS adapters, report sinks and
notifiers register themselves by name through them.

pluggy calls implementations last-registered-first, drops ``None`` answers,
and stops at the first non-``None`` answer of a ``firstresult`` hook. A docs
test fails if any hook here lacks a docstring or leaves out a parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from hv_connector import PROJECT

# Types only: the pipelines import hv_connector.plugins, which imports this module, and loading them
# (and httpx) here would slow every start.
if TYPE_CHECKING:
    from hv_connector.models import (
        CheckInPlan,
        EscalationStep,
        Finding,
        FollowUp,
        PolicyContext,
        PolicyInfo,
        Reason,
        ReportKind,
        RiskTemplate,
        RuleInfo,
        Stage,
        Visit,
    )
    from hv_connector.outbox.sinks import ReportSinkFactory
    from hv_connector.sync.pipeline import MisAdapterFactory
    from hv_connector.watch.notify import NotifierFactory

hookspec = pluggy.HookspecMarker(PROJECT)


# --- identity: asked of every plugin, once, when plugins load -------------------------------


@hookspec
def policy_info() -> PolicyInfo | None:
    """Say which school this plugin's policy serves, and which document it encodes.

    Called once for every registered plugin when the core first needs a school's
    policy, so it can map each school id to its one policy plugin. Every plugin
    is asked, one at a time, and the answers are kept apart, never combined:
    plugins that serve no school (the core rules, adapters, notifiers) return
    ``None``, and two plugins claiming the same school is a
    :class:`~hv_connector.errors.PluginContractError`.

    :returns: a :class:`~hv_connector.models.PolicyInfo`, or ``None``.
    """


# --- school-policy hooks: the school's plugin and the core only ------------------------------


@hookspec(firstresult=True)
def visit_reasons() -> list[Reason] | None:
    """List the reasons for a home visit that the school's policy accepts.

    Called when a visit is requested or checked, and when a form offers a
    choice of reasons. Asked of the school's plugin, then the core; the first
    non-``None`` answer wins.

    :returns: a list of :class:`~hv_connector.models.Reason`.
    """


@hookspec
def policy_rules() -> list[RuleInfo] | None:
    """Declare every rule the plugin checks, with its stage, severity and clause.

    Called by ``hvc policy show`` and the plugin contract check. Asked of the
    school's plugin and the core; the lists are concatenated (school first).

    :returns: a list of :class:`~hv_connector.models.RuleInfo`.
    """


@hookspec
def visit_findings(visit: Visit, stage: Stage, ctx: PolicyContext) -> list[Finding] | None:
    """Check a visit against the policy at one stage of its life.

    Called at every lifecycle transition (request, authorise, sign-out,
    check-ins, return, report) and by ``hvc policy check``. Asked of the
    school's plugin and the core; the lists are concatenated. Only rules of
    ``stage`` answer; a rule that holds returns nothing.

    :param visit: the visit as it would stand after the transition.
    :param stage: the stage being checked.
    :param ctx: the moment of the check, the school's policy info, reasons and options.
    :returns: a list of :class:`~hv_connector.models.Finding`.
    """


@hookspec
def policy_option_problems(ctx: PolicyContext, config_file: str) -> list[str] | None:
    """Say what is wrong with the school's configured policy options, one message per option.

    Called by ``hvc config check`` and when ``hvc watch`` starts, so an option
    the policy cannot read (a misspelt name, ``"4pm"`` for a time of day)
    refuses to start instead of failing when a visit is checked. Asked of the
    school's plugin and the core; the lists are concatenated. The options are
    the school plugin's own (the core reads none), so it reports any it does
    not read as well as any value it cannot read; each message names the
    option, the fix and ``config_file``. :class:`~hv_connector.rules.RuleBookPolicy`
    answers from the options its book declares.

    :param ctx: the school's policy info, reasons and configured options (``[schools.ID.options]``).
    :param config_file: the settings file actually read, for the messages to name.
    :returns: a list of messages, empty when every option can be read.
    """


@hookspec(firstresult=True)
def authoriser_roles(visit: Visit) -> list[str] | None:
    """Name the staff roles that may authorise this visit (and override its blocks).

    Called when someone tries to authorise, decline or override, and by the
    dashboard to show who may. Asked of the school's plugin, then the core; the
    first non-``None`` answer wins.

    :param visit: the visit awaiting authorisation.
    :returns: a list of role names, e.g. ``["dsl", "slt"]``.
    """


@hookspec(firstresult=True)
def risk_assessment_template(visit: Visit) -> RiskTemplate | None:
    """Give the school's risk-assessment template for this visit.

    Called when the request form builds the risk assessment and when the
    briefing shows it. Asked of the school's plugin, then the core; the first
    non-``None`` answer wins.

    :param visit: the visit being planned.
    :returns: a :class:`~hv_connector.models.RiskTemplate`.
    """


@hookspec(firstresult=True)
def checkin_plan(visit: Visit) -> CheckInPlan | None:
    """Give the contacts the school expects while staff are out on this visit.

    Called by the watch when a visit is signed out and at every tick after, to
    work out which check-ins are due. Asked of the school's plugin, then the
    core; the first non-``None`` answer wins.

    :param visit: the signed-out visit.
    :returns: a :class:`~hv_connector.models.CheckInPlan`.
    """


@hookspec(firstresult=True)
def escalation_chain(visit: Visit) -> list[EscalationStep] | None:
    """Give the steps to take, in order, when staff on this visit are overdue or need help.

    Called by the watch when a visit passes its expected return (plus the
    plan's grace) or a code word is used, and by ``hvc watch --drill``. Asked
    of the school's plugin, then the core; the first non-``None`` answer wins.
    Exactly one step should be marked ``emergency``: a code word jumps to it.

    :param visit: the overdue visit.
    :returns: a list of :class:`~hv_connector.models.EscalationStep`, first step first.
    """


@hookspec(firstresult=True)
def cpoms_categories(visit: Visit, kind: ReportKind) -> list[str] | None:
    """Name the school's CPOMS categories for a record about this visit.

    Called when a finished visit or a concern is written to the outbox. The
    names are matched to the school's CPOMS category ids by the report sink.
    Asked of the school's plugin, then the core; the first non-``None`` answer wins.

    :param visit: the finished visit.
    :param kind: ``home-visit``, ``concern``, ``attendance`` or ``cancelled``.
    :returns: one to three category names, most specific first.
    """


@hookspec
def follow_ups(visit: Visit) -> list[FollowUp] | None:
    """List what must happen after this visit under the school's policy.

    Called when the report is written; the follow-ups go into the CPOMS record
    as action points and onto the dashboard. Asked of the school's plugin and
    the core; the lists are concatenated.

    :param visit: the visit with its outcome recorded.
    :returns: a list of :class:`~hv_connector.models.FollowUp`.
    """


# --- extension hooks: asked of every plugin ---------------------------------------------------


@hookspec
def mis_adapters() -> dict[str, MisAdapterFactory] | None:
    """Register MIS adapters by name (``wonde`` is built in).

    Called when ``hvc sync`` starts and by ``hvc config check``. Every plugin
    is asked; the mappings are merged, and a name registered twice is a
    plugin contract error. A school uses the adapter its ``mis`` setting
    names. Each factory (:class:`~hv_connector.sync.pipeline.MisAdapterFactory`) answers two calls:

    - ``factory.settings_problems(settings, school, config_file)``: what the
      adapter lacks to sync ``school`` (a list of
      :class:`~hv_connector.config.checks.Problem`, empty when all is set).
      ``hvc config check`` asks it of every school that syncs, so the core
      demands no setting of any adapter: Wonde's asks for ``[wonde] token``
      and ``mis_school_id``; another reads its own per-school section,
      ``[schools.ID.mis_options]`` (values under secret names are
      :class:`~pydantic.SecretStr`, redacted by ``hvc config show``).
    - ``factory(settings, school)``: the school's adapter, with the
      :class:`~hv_connector.sync.pipeline.MisAdapter` interface. Its sync
      cursors are its own text (a time, a revision number): the core stores
      them and hands them back, and never reads them.

    :returns: a mapping of adapter name to :class:`~hv_connector.sync.pipeline.MisAdapterFactory`.
    """


@hookspec
def report_sinks() -> dict[str, ReportSinkFactory] | None:
    """Register report sinks by name: where a school's finished records and concerns go.

    ``manual`` (the default: paste block and PDF for the DSL team to enter
    in CPOMS, done when they confirm) and ``cpoms-api`` are built in; a
    MyConcern or Safeguard sink is a plugin registering its own name. A
    school picks one with ``name`` under ``[schools.ID.sink]``; the table's
    other keys are the sink's own settings, which its factory reads with
    :func:`hv_connector.outbox.sinks.sink_options` into its own model.

    Called when ``hvc push`` (or the watch, for concerns) delivers the
    outbox, and by ``hvc config check``. Every plugin is asked; the mappings
    are merged. Each factory is called as ``factory(settings, school)`` and
    returns a sink with the :class:`hv_connector.outbox.sinks.ReportSink`
    interface, raising only the core's generic sink errors
    (:class:`~hv_connector.errors.SinkRefused`,
    :class:`~hv_connector.errors.SinkUnavailable`,
    :class:`~hv_connector.errors.SinkOutcomeUnknown`).

    :returns: a mapping of sink name to :data:`~hv_connector.outbox.sinks.ReportSinkFactory`.
    """


@hookspec
def notifiers() -> dict[str, NotifierFactory] | None:
    """Register notifiers by name: how an escalation step reaches a person.

    Called when the watch starts. Every plugin is asked; the mappings are
    merged. Each factory is called as ``factory(settings, options)`` and
    returns a notifier with the :class:`hv_connector.watch.notify.Notifier` interface.
    The built-ins are ``store``, ``log``, ``email`` and ``command``.

    :returns: a mapping of notifier name to :data:`~hv_connector.watch.notify.NotifierFactory`.
    """
