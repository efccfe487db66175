"""Delivering notifications: each one claimed, sent, and recorded as sent, one at a time; a lane per notifier.

The tick records events and their ``notifications`` rows; a :class:`Courier`
sends them. For each row it

1. **claims** it: one ``UPDATE … SET status = 'sending', claimed_by = <this
   watch>, lease_until = … WHERE id = … AND <claimable>`` in its own short
   transaction, so of two watches exactly one wins the row, and no transaction
   ever holds a second row's lock (nothing to deadlock on);
2. **sends** it, bounded by the notifier's own timeout;
3. **settles** it (``sent``, ``retrying``, ``failed``) in its own short transaction.

A row is claimable when ``pending`` or ``retrying``, or when its claim is dead:
the lease ran out (the watch that took it is gone or hung), or the process on
this host that took it is no longer running (a watch killed mid-send, then
restarted). So a crash repeats at most the one message that was in flight, and
sends it as soon as a watch is back.

Each notifier has its own lane (a thread), so a hanging SMS gateway delays
only its own messages: the board and e-mail go out, and the tick carries on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from hv_connector.clock import Clock, utc
from hv_connector.store import Store
from hv_connector.store.schema import WATCH_PREFIX, escalations, notifications
from hv_connector.watch.notify import Notice, Notifier

log = logging.getLogger("hv_connector.watch")

MAX_ATTEMPTS = 5
"""A notification is tried on this many ticks before it is reported as failed."""
SEND_LEASE = timedelta(minutes=10)
"""How long a claim holds before another watch may send the message: longer than any notifier's timeout."""
RETRY_SOON = ("pending", "retrying")


def this_watch() -> str:
    """``watch:<host>:<pid>``: who a claim or a heartbeat belongs to."""
    return f"{WATCH_PREFIX}{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def dead_claims(owners: Iterable[str], me: str) -> list[str]:
    """The owners among ``owners`` that were watches on this host whose process has gone."""
    host = me.removeprefix(WATCH_PREFIX).rsplit(":", 1)[0]
    dead = []
    for owner in owners:
        owner_host, _, pid = owner.removeprefix(WATCH_PREFIX).rpartition(":")
        if owner != me and owner_host == host and pid.isdigit() and not _alive(int(pid)):
            dead.append(owner)
    return dead


def _lease_clock() -> datetime:
    # A lease says whether a process is still at work: real time, whatever clock the watch is told to keep.
    return datetime.now(UTC)


@dataclass
class Delivered:
    """What sending did: messages sent, and each failure in words."""

    sent: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Delivered) -> None:
        self.sent += other.sent
        self.failures.extend(other.failures)


class Courier:
    """Sends a watch's notifications, one lane (thread) per notifier.

    :param store: the store.
    :param notifiers: the configured notifiers.
    :param clock: the watch's clock (``sent_at``).
    :param owner: who claims (default :func:`this_watch`).
    """

    def __init__(self, store: Store, notifiers: Sequence[Notifier], clock: Clock, owner: str | None = None) -> None:
        self.store, self.notifiers, self.clock = store, list(notifiers), clock
        self.owner = owner or this_watch()
        self._lanes: dict[str, threading.Thread] = {}
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._lock = threading.Lock()
        self._done = Delivered()

    def deliver(self) -> Delivered:
        """Send every claimable notification now, each notifier's in parallel, and wait for them."""
        self.start()
        self.wait()
        return self.drain()

    def start(self) -> None:
        """Start a lane for each idle notifier, and return at once; a busy lane takes another pass when it ends.

        A lane still sending read its rows before this tick recorded new ones: it is told to look again,
        so nothing recorded now waits for the next tick.
        """
        self._retire_unconfigured()
        with self._lock:
            for notifier in self.notifiers:
                if notifier.name in self._running:
                    self._again.add(notifier.name)
                    continue
                self._running.add(notifier.name)
                lane = threading.Thread(target=self._run_lane, args=(notifier,), daemon=True,
                                        name=f"hvc-notify-{notifier.name}")
                self._lanes[notifier.name] = lane
                lane.start()

    def busy(self) -> bool:
        """Whether any lane is still sending."""
        with self._lock:
            return bool(self._running)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every lane to finish its pass (each send is bounded by its notifier's timeout)."""
        with self._lock:
            lanes = list(self._lanes.values())
        for lane in lanes:
            lane.join(timeout)

    def drain(self) -> Delivered:
        """What the lanes did since the last drain."""
        with self._lock:
            done, self._done = self._done, Delivered()
        return done

    # --- one lane ------------------------------------------------------------------------------------

    def _run_lane(self, notifier: Notifier) -> None:
        """Passes over the notifier's claimable rows, oldest first, each row tried at most once a pass.

        Another pass follows when :meth:`start` was called during this one; the lane is marked idle under
        the same lock that :meth:`start` reads, so a call at the very end is never lost.
        """
        done = Delivered()
        while True:
            try:
                for notification_id in self._candidates(notifier.name):
                    claimed = self._claim(notification_id)
                    if claimed is not None:
                        self._send(notifier, claimed, done)
            except Exception:  # a database hiccup must not kill the watch; the next tick starts the lane again
                log.exception("delivering through %s stopped; the next tick carries on", notifier.name)
            with self._lock:
                if notifier.name in self._again:
                    self._again.discard(notifier.name)
                    continue
                self._running.discard(notifier.name)
                self._done.add(done)
                return

    def _candidates(self, name: str) -> list[int]:
        with self.store.connect() as conn:
            return list(conn.execute(select(notifications.c.id).where(
                notifications.c.notifier == name, notifications.c.status.in_((*RETRY_SOON, "sending")))
                .order_by(notifications.c.id)).scalars())

    def _claim(self, notification_id: int) -> dict[str, Any] | None:
        """Take the row if nobody holds it; what to send, or ``None`` when another watch has it (or it is done)."""
        now = _lease_clock()

        def claim(conn: Connection) -> dict[str, Any] | None:
            owners = conn.execute(select(notifications.c.claimed_by).where(
                notifications.c.id == notification_id, notifications.c.status == "sending")).scalars().all()
            dead = dead_claims([o for o in owners if o], self.owner)
            claimable = or_(notifications.c.status.in_(RETRY_SOON),
                            and_(notifications.c.status == "sending",
                                 or_(notifications.c.lease_until < now, notifications.c.claimed_by.in_(dead))))
            taken = conn.execute(update(notifications).where(notifications.c.id == notification_id, claimable)
                                 .values(status="sending", claimed_by=self.owner, lease_until=now + SEND_LEASE,
                                         attempts=notifications.c.attempts + 1)).rowcount
            if taken != 1:
                return None
            return dict(conn.execute(
                select(notifications.c.id, notifications.c.recipient, notifications.c.attempts,
                       escalations.c.id.label("escalation_id"), escalations.c.key, escalations.c.school_id,
                       escalations.c.visit_id, escalations.c.kind, escalations.c.step_index, escalations.c.due_at,
                       escalations.c.who, escalations.c.message)
                .join(escalations, escalations.c.id == notifications.c.escalation_id)
                .where(notifications.c.id == notification_id)).mappings().one())

        return self.store.retrying(claim, what=f"claiming notification {notification_id}")

    def _send(self, notifier: Notifier, row: dict[str, Any], done: Delivered) -> None:
        notice = Notice(escalation_id=row["escalation_id"], key=row["key"], kind=row["kind"],
                        school_id=row["school_id"] or "", visit_id=row["visit_id"], step_index=row["step_index"],
                        due_at=row["due_at"], who=tuple(row["who"] or ()), text=row["message"] or "")
        attempts = row["attempts"]
        try:
            notifier.send(notice, row["recipient"])
        except Exception as exc:  # noqa: BLE001 - any notifier failure is reported and retried, never fatal
            status = "failed" if attempts >= MAX_ATTEMPTS else "retrying"
            error = f"{type(exc).__name__}: {exc}"[:500]
            done.failures.append(f"{notifier.name} to {row['recipient']} (escalation {row['escalation_id']}): "
                                 f"{error}" + ("; giving up" if status == "failed" else "; will retry"))
            log.warning("notifier %s failed for escalation %s (attempt %d): %s", notifier.name,
                        row["escalation_id"], attempts, error)
            values: dict[str, Any] = {"status": status, "last_error": error}
        else:
            done.sent += 1
            values = {"status": "sent", "last_error": None, "sent_at": utc(self.clock.now())}
        # Recorded at once, on its own: a crash from here on repeats nothing.
        self.store.retrying(lambda conn: conn.execute(
            update(notifications).where(notifications.c.id == row["id"], notifications.c.claimed_by == self.owner)
            .values(claimed_by=None, lease_until=None, **values)), what=f"recording notification {row['id']}")

    def _retire_unconfigured(self) -> None:
        """Rows for a notifier configured out since: say so once, and stop asking."""
        names = [n.name for n in self.notifiers]
        self.store.retrying(lambda conn: conn.execute(
            update(notifications).where(notifications.c.status.in_(RETRY_SOON), notifications.c.notifier.not_in(names))
            .values(status="failed", last_error="notifier no longer configured")), what="retiring unconfigured notifiers")
