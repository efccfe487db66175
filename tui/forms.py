"""Turning what is typed in the dashboard's forms into the documents the core validates.

Times are typed as London wall-clock ``HH:MM`` (on the visit's day) or
``YYYY-MM-DD HH:MM``; a field that cannot be read raises
:class:`~hv_connector.errors.InputError` naming it, as the CLI does.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from hv_connector.clock import at_london, local
from hv_connector.errors import InputError
from hv_connector.models import PersonPresent

_PERSON = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<relationship>[^()]*)\))?\s*$")


def parse_time(value: str, field: str, day: date) -> datetime | None:
    """``HH:MM`` on ``day`` or ``YYYY-MM-DD HH:MM``, London time; ``None`` when blank."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) <= 5:
            return at_london(day, time.fromisoformat(value.zfill(5)))
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: {value!r} is not a time; type HH:MM or YYYY-MM-DD HH:MM") from None
    return moment if moment.tzinfo else at_london(moment.date(), moment.time())


def show_time(moment: datetime | None) -> str:
    """The form's way of writing a time back: ``YYYY-MM-DD HH:MM`` in London."""
    return f"{local(moment):%Y-%m-%d %H:%M}" if moment else ""


def parse_people(value: str) -> list[PersonPresent]:
    """``Ann Example (mother); Bo Example (brother)`` → people present."""
    people = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        match = _PERSON.match(part)
        if match is None:
            raise InputError(f"present: {part!r} is not 'Name (relationship)'; separate people with ';'")
        people.append(PersonPresent(name=match["name"], relationship=match["relationship"] or ""))
    return people


def lines(value: str) -> list[str]:
    """Non-blank lines, trimmed: one agreement or action per line."""
    return [line.strip() for line in value.splitlines() if line.strip()]
