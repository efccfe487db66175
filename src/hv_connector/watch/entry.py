"""The alarm for a safeguarding concern a person must finish in CPOMS and has not confirmed in time.

A school on the ``manual`` sink has each concern written to its folder for the DSL
team to enter in CPOMS; the outbox record waits ``awaiting-entry`` until someone
confirms its CPOMS number. A concern CPOMS keeps unmatched in its Incident Tray waits
``in-tray`` until someone confirms they attached it to the pupil. If that has not happened within the school's
``confirm_within_minutes`` of school hours (``[schools.ID.sink]``, default 30
minutes, 08:00-17:00 Monday to Friday, UK time), the watch fires one alarm to the
DSL through the escalation table and the notifiers, like any other: its unique
key makes it fire once, even with two watches. Confirming the record closes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, select

from hv_connector.clock import at_london, local
from hv_connector.config.settings import SinkSettings
from hv_connector.outbox.entry import attach_command
from hv_connector.outbox.queue import UNCONFIRMED_ALARM
from hv_connector.store.rows import CONCERN, IN_TRAY, TO_CONFIRM, WHERE
from hv_connector.store.schema import escalations, outbox
from hv_connector.text import neutralise
from hv_connector.watch.schedule import DueEvent, EventKind

KIND: EventKind = "entry-unconfirmed"
"""The alarm's escalation kind."""
WHO = ("dsl", "deputy-dsl")
"""Who the alarm reaches: the school's DSL team."""


def school_deadline(written: datetime, minutes: int, school_day: str) -> datetime:
    """When ``minutes`` of school hours (``HH:MM-HH:MM``, Monday to Friday, UK time) have passed since ``written``."""
    opens, closes = (time.fromisoformat(part) for part in school_day.split("-"))
    left = timedelta(minutes=minutes)
    at = local(written)
    while True:
        start, end = at_london(at.date(), opens), at_london(at.date(), closes)
        if at.weekday() < 5 and at < end:
            begin = max(at, start)
            if begin + left <= end:
                return begin + left
            left -= end - begin
        at = at_london(at.date() + timedelta(days=1), time(0))


def due_alarms(conn: Connection, sinks: Mapping[str, SinkSettings], now: datetime) -> list[tuple[str, DueEvent]]:
    """The (school, alarm) for each concern awaiting entry or in CPOMS's tray past its school's time, not alarmed before."""
    waiting = conn.execute(select(outbox.c.id, outbox.c.school_id, outbox.c.visit_id, outbox.c.created_at,
                                  outbox.c.status, outbox.c.cpoms_id).where(
        outbox.c.status.in_(TO_CONFIRM), outbox.c.priority == CONCERN, outbox.c.visit_id.is_not(None))).all()
    keys = [UNCONFIRMED_ALARM.format(row.id) for row in waiting]
    fired = set(conn.execute(select(escalations.c.key).where(escalations.c.key.in_(keys))).scalars()) if keys else set()
    due: list[tuple[str, DueEvent]] = []
    for row, key in zip(waiting, keys, strict=True):
        sink = sinks.get(row.school_id) or SinkSettings()
        deadline = school_deadline(row.created_at, sink.confirm_within_minutes, sink.school_day)
        if key in fired or deadline > now:
            continue
        text = _unattached(row.id, row.cpoms_id, sink.confirm_within_minutes) if row.status == IN_TRAY else (
            f"A safeguarding concern written for the DSL team (outbox record {row.id}) has not been confirmed as "
            f"entered in CPOMS after {sink.confirm_within_minutes} minutes of school hours. Enter it now "
            f"(`hvc outbox show {row.id}`), then `hvc outbox confirm {row.id} --ref CPOMS_RECORD_NO --as STAFF`.")
        due.append((row.school_id, DueEvent(key=key, visit_id=row.visit_id, kind=KIND, step_index=0, due_at=deadline,
                                            who=WHO, text=text)))
    return due


def _unattached(outbox_id: int, incident: str | None, minutes: int) -> str:
    """The alarm's text for a concern CPOMS holds in its tray, on no pupil's chronology. Like every notice it never
    names the pupil (:mod:`hv_connector.watch.notify`): ``hvc outbox show`` says whom to attach it to."""
    number = neutralise(incident) if incident else "number not given"  # the receiver's text
    return (f"A safeguarding concern (outbox record {outbox_id}, CPOMS incident {number}) is {WHERE[IN_TRAY]}, and "
            f"has not been confirmed as attached after {minutes} minutes of school hours. Attach it now "
            f"(`hvc outbox show {outbox_id}` names the pupil), then "
            f"`{attach_command(outbox_id, incident)}`.")
