"""The alarm when a scheduled job fails (``hvc alarm``, from systemd's ``OnFailure=``): through our notifiers.

It reaches the DSLs, office managers and admins of every school, and each notifier's ``always_to``, by
e-mail and the SMS command when they are configured; the log always. A notice that cannot be delivered
is logged at CRITICAL (journald shows it in red), and the run exits non-zero, so the failure is seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from hv_connector.visits.directory import Directory
from hv_connector.watch.notify import Notice, Notifier, Recipient

log = logging.getLogger("hv_connector.watch.alarm")

ALARM_ROLES = ("dsl", "office-manager", "admin")
"""Who hears that the watch may have stopped."""

NOT_SENT_BY_ALARM = frozenset({"store"})
"""Notifiers with nothing to deliver for an alarm: the board shows escalations, not failed jobs."""


@dataclass(frozen=True)
class AlarmResult:
    """Where the alarm went, and where it could not go (address → why)."""

    delivered: list[str]
    failed: dict[str, str]


def alarm_notice(unit: str, host: str, now: datetime, directory: Directory) -> Notice:
    """The notice for ``unit`` failing on ``host``: what to check, for the people who must know."""
    recipients = {member.id: Recipient.of(member)
                  for school in directory.schools() for member in directory.staff[school].values()
                  if member.has_any(ALARM_ROLES)}
    text = (f"hv-connector: {unit} failed on {host} at {now:%H:%M %d %b}. The watch may have stopped: staff out on "
            f"visits are not being watched. Check `systemctl status {unit}` and `journalctl -u hvc-watch` now, and "
            "keep watch by phone until it is fixed.")
    return Notice(escalation_id=0, key=f"alarm:{unit}:{now.isoformat()}", kind="watch-stopped", school_id="all",
                  visit_id="-", step_index=0, due_at=now, who=ALARM_ROLES, text=text,
                  recipients=tuple(recipients.values()))


def raise_alarm(notice: Notice, notifiers: list[Notifier]) -> AlarmResult:
    """Send ``notice`` through every notifier to every address it has; log each failure at CRITICAL."""
    delivered: list[str] = []
    failed: dict[str, str] = {}
    for notifier in notifiers:
        if notifier.name in NOT_SENT_BY_ALARM:
            continue
        for address in notifier.addresses(notice):
            where = f"{notifier.name}:{address}"
            try:
                notifier.send(notice, address)
            except Exception as exc:  # any failure: said loudly, and the others still tried
                failed[where] = str(exc)
                log.critical("ALARM NOT DELIVERED to %s: %s — %s", where, exc, notice.text)
            else:
                delivered.append(where)
    return AlarmResult(delivered, failed)
