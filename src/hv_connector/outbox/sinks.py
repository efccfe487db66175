"""The report-sink interface: what a sink is handed, what it answers, and opening one per school."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from hv_connector.errors import ConfigError
from hv_connector.outbox.report import VisitReport

if TYPE_CHECKING:
    from hv_connector.config.settings import SchoolSettings, Settings


TRAY = "tray"
"""A receiver's :attr:`Delivery.status` for a record it holds unmatched, in its Incident Tray."""


@dataclass(frozen=True)
class Delivery:
    """Where a record landed: the remote id, and whether it was there before this push sent it."""

    remote_id: str
    already_there: bool = False
    status: str = "recorded"
    """The remote system's word for it (CPOMS: ``recorded``, or ``tray`` when it holds the record unmatched in its
    Incident Tray: the record waits ``in-tray``, never sent again, until the DSL team confirms they attached it)."""
    awaiting_entry: bool = False
    """Written out for a person to enter by hand (the manual sink): the record is done only when the DSL team
    confirms the receiver's record number (``hvc outbox confirm``); ``remote_id`` says where it was written."""
    doubt: str | None = None
    """Why the receiver may now hold the record twice: it was sent again because the sink could not tell whether an
    earlier send, whose answer was lost, had landed (the push logs it as a warning naming the record)."""

    @property
    def in_tray(self) -> bool:
        """The receiver holds the record but attached it to no pupil: a person must (``hvc outbox confirm``)."""
        return self.status == TRAY


class ReportSink(Protocol):
    """Where finished-visit records go: CPOMS by default, any other system by plugin.

    A sink is an async context manager, opened once per push for one school.
    It raises the core's generic errors, never its own: :class:`~hv_connector.errors.SinkRefused`
    for a refusal (the record is parked with the receiver's reason),
    :class:`~hv_connector.errors.SinkUnavailable` for anything worth trying again (the record
    waits), and :class:`~hv_connector.errors.SinkOutcomeUnknown` when the answer was lost after
    the record went out (the next try calls :meth:`find` before sending again). A sink whose
    records a person completes answers a :class:`Delivery` with ``awaiting_entry``; one whose receiver
    keeps a record unmatched for a person to attach answers it with ``status="tray"``. Register a
    factory ``factory(settings, school)`` through the ``report_sinks`` hook; it reads its own
    settings from ``school.sink`` with :func:`sink_options`.

    A sink with a rate limit may also say how fast it may go: ``requests_per_second`` and ``latency``
    (its receiver's recent answer time), from which the push sizes how many of its records are in
    flight (:mod:`hv_connector.outbox.pacing`).
    """

    async def __aenter__(self) -> ReportSink: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def find(self, report: VisitReport) -> Delivery | None:
        """The record already in the remote system under ``report.record_id``, or ``None``."""
        ...

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        """Send ``report``; the same key must never make a second record."""
        ...


ReportSinkFactory: TypeAlias = "Callable[[Settings, SchoolSettings], ReportSink]"
"""What ``report_sinks`` registers under a name: ``factory(settings, school)`` builds one school's sink."""

SinkFor = Callable[[str], ReportSink]
"""Given a school id, a (not yet opened) sink for it; raises ConfigError when the school has none."""


def open_sinks(settings: Any, registry: Mapping[str, ReportSinkFactory], schools: Iterable[Any]) -> SinkFor:
    """A :data:`SinkFor` that builds each configured school's sink from the ``report_sinks`` registry."""
    by_id = {school.id: school for school in schools}

    def sink_for(school_id: str) -> ReportSink:
        school = by_id.get(school_id)
        if school is None:
            raise ConfigError(f"school {school_id!r} has outbox records but is not configured: add it under "
                              "[schools] in hvc.toml")
        name = school.sink.name
        factory = registry.get(name)
        if factory is None:
            raise ConfigError(f"school {school_id!r} uses report sink {name!r}, which no installed plugin provides "
                              f"(installed: {', '.join(sorted(registry)) or 'none'}): change `name` under "
                              f"[schools.{school_id}.sink] in hvc.toml, or install the plugin that provides it")
        return factory(settings, school)

    return sink_for


Options = TypeVar("Options", bound=BaseModel)


def sink_options(model: type[Options], school: SchoolSettings) -> Options:
    """``school``'s ``[schools.ID.sink]`` keys read as the sink's own settings ``model``, or a ConfigError naming each.

    Sinks call this from their factory, so a missing or mistyped setting is named with its table.
    """
    try:
        return model.model_validate(school.sink.options())
    except ValidationError as exc:
        wrong = "; ".join(f"`{'.'.join(str(p) for p in e['loc'])}` {e['msg'].lower()}" for e in exc.errors())
        raise ConfigError(f"the {school.sink.name} sink of school {school.id!r}: {wrong}: fix it under "
                          f"[schools.{school.id}.sink] in hvc.toml") from None

