"""The built-in extensions: the ``wonde`` MIS adapter, the ``manual`` and ``cpoms-api`` report sinks and the notifiers.

Registered like any plugin, through the ``mis_adapters``, ``report_sinks`` and
``notifiers`` hooks. Each hook imports its implementation only when it is
called (by ``hvc sync``, ``hvc push``, the watch): loading the plugins, which
every command that asks a school's policy does (``hvc status`` on each cron
run), then costs no httpx, Wonde or CPOMS client, or smtplib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hv_connector import hookimpl

if TYPE_CHECKING:
    from hv_connector.outbox.sinks import ReportSinkFactory
    from hv_connector.sync.pipeline import MisAdapterFactory
    from hv_connector.watch.notify import NotifierFactory


@hookimpl
def mis_adapters() -> dict[str, MisAdapterFactory]:
    """Register the Wonde adapter as ``wonde`` (a fresh factory per run, so schools share one client)."""
    from hv_connector.builtin.wonde_adapter import WondeConnections

    return {"wonde": WondeConnections()}


@hookimpl
def report_sinks() -> dict[str, ReportSinkFactory]:
    """The built-in sinks: ``manual`` (the default: records written for the DSL team to enter) and ``cpoms-api``."""
    from hv_connector.builtin.cpoms_sink import cpoms_api_sink
    from hv_connector.builtin.manual_sink import manual_sink

    return {"manual": manual_sink, "cpoms-api": cpoms_api_sink}


@hookimpl
def notifiers() -> dict[str, NotifierFactory]:
    """The built-in ``store``, ``log``, ``email`` and ``command`` notifiers."""
    from hv_connector.builtin.notifiers import FACTORIES

    return dict(FACTORIES)
