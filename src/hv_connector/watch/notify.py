"""How an escalation reaches a person: the notice, the :class:`Notifier` interface, and loading notifiers.

Notifiers are registered through the ``notifiers`` hook (see
:mod:`hv_connector.hookspecs`); the built-ins (``store``, ``log``, ``email``,
``command``) live in :mod:`hv_connector.builtin.notifiers`. The watch records
each delivery in the ``notifications`` table, one row per notifier and
address, and retries a failed one on later ticks: a notifier that fails never
stops the watch, and the escalation is on the board whatever happens.

A notice carries what the schedule wrote for people to read. It never holds
the code word or the pupil's name: a text message or an e-mail can be read
over someone's shoulder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import pluggy

from hv_connector.errors import ConfigError
from hv_connector.plugins import merged_registry

if TYPE_CHECKING:
    from hv_connector.config.settings import Settings
    from hv_connector.models import StaffMember

DEFAULT_NOTIFIERS: dict[str, dict[str, Any]] = {"store": {}, "log": {}}
"""Always on, whatever the settings add: the board and the log."""

_SUBJECTS = {
    "checkin-reminder": "Home visit: check-in reminder",
    "checkin-missed": "Home visit: check-in missed",
    "overdue": "Home visit: staff not back",
    "code-word": "Priority call-back requested",
    "chain-exhausted": "Home visit: every step taken, act now",
    "entry-unconfirmed": "Safeguarding concern not yet confirmed in CPOMS",  # to enter, or to attach from its tray
    "watch-stopped": "hv-connector alarm: the watch may have stopped",
    "audit-anchor": "hv-connector audit log tip: keep this e-mail",
}


@dataclass(frozen=True)
class Recipient:
    """A person an escalation step reaches, from the directory or the visit."""

    name: str
    roles: tuple[str, ...] = ()
    email: str | None = None
    mobile: str | None = None
    staff_id: str | None = None

    @classmethod
    def of(cls, member: StaffMember) -> Recipient:
        """A member of staff, as a step reaches them."""
        return cls(member.name, member.roles, member.email, member.mobile, member.id)


@dataclass(frozen=True)
class Notice:
    """One escalation event, as the people it reaches are told about it."""

    escalation_id: int
    key: str
    kind: str
    school_id: str
    visit_id: str
    step_index: int
    due_at: datetime
    who: tuple[str, ...]
    """Roles reached (``visiting-staff`` for the staff out on the visit)."""
    text: str
    recipients: tuple[Recipient, ...] = ()
    drill: bool = False
    """A drill: shown, never sent."""

    @property
    def subject(self) -> str:
        """A short, calm subject line (a code word alert reads as a call-back request)."""
        subject = _SUBJECTS.get(self.kind, "Home visit alert")
        return f"[DRILL] {subject}" if self.drill else subject


@runtime_checkable
class Notifier(Protocol):
    """Something that delivers a :class:`Notice`: the board, the log, e-mail, an SMS gateway.

    ``addresses`` says where this notifier would deliver a notice (e-mail
    addresses, mobile numbers, or one fixed name such as ``"dashboard"``);
    the watch records one ``notifications`` row per address and calls
    ``send`` for each, retrying a failure on later ticks. ``send`` raises any
    exception to report a failure; its message is stored, so it must not
    contain a secret.
    """

    name: str

    def addresses(self, notice: Notice) -> list[str]:
        """Where this notifier would deliver ``notice`` (empty: nobody it can reach)."""
        ...

    def send(self, notice: Notice, address: str) -> None:
        """Deliver ``notice`` to ``address``, or raise."""
        ...


NotifierFactory: TypeAlias = "Callable[[Settings, Mapping[str, Any]], Notifier]"
"""What ``notifiers`` registers under a name: ``factory(settings, options)`` builds the notifier, where
``options`` is its ``[watch.notifiers.NAME]`` table."""


def load_notifiers(pm: pluggy.PluginManager, settings: Any,
                   configured: Mapping[str, Mapping[str, Any]] | None) -> list[Notifier]:
    """Build the built-in defaults plus the notifiers ``configured`` names (name → options).

    :raises ConfigError: a configured notifier that no plugin registers.
    """
    factories: dict[str, NotifierFactory] = merged_registry(pm, "notifiers")
    chosen = {**DEFAULT_NOTIFIERS, **(configured or {})}
    notifiers: list[Notifier] = []
    for name, options in chosen.items():
        factory = factories.get(name)
        if factory is None:
            known = ", ".join(sorted(factories)) or "none"
            raise ConfigError(
                f"notifier {name!r} is configured under [watch.notifiers] but no plugin registers it "
                f"(registered: {known}); remove it or install the plugin that provides it"
            )
        notifiers.append(factory(settings, dict(options or {})))
    return notifiers
