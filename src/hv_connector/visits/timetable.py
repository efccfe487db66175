"""What the watch reads of a visit that is out, stored compact beside it: its times, contacts, staff, plan and chain.

The watch looks at every visit out on each tick that something may fall due,
and it needs a handful of fields, not the whole document. So whenever the
lifecycle writes a visit the watch looks after, it also writes
``visits.timetable`` (revision 0008): the times the schedule works from and
the check-ins made (when, what kind, whether with the code word); and
``visits.timetable_shared``, as JSON text: the check-in plan and escalation
chain the school's policy gave for the visit then (what staff were told when
they went out) and the visiting staff (who, and how to reach them). Reading
them costs a small JSON object and no policy call: the many visits given the
same plan and chain by the same staff share one parsed copy.

A visit written before the column existed, or while its school's policy could
not be read, has none: the watch works it out from the whole visit and, when
the policy answered, stores it (:func:`ask`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hv_connector.models import CheckInPlan, EscalationStep, StaffMember, Visit
from hv_connector.plugins import Policies

_STAFF_FIELDS = ("id", "name", "roles", "mobile", "email")
"""What the watch needs of each visiting member of staff: who, and how to reach them."""


@dataclass(frozen=True)
class Contact:
    """A check-in as the schedule reads it."""

    at: datetime
    kind: str
    code_word_used: bool


@dataclass(frozen=True)
class Shared:
    """What many visits have alike: the plan and chain their school's policy gave, and the visiting staff."""

    plan: CheckInPlan
    chain: tuple[EscalationStep, ...]
    staff: tuple[StaffMember, ...]


@dataclass(frozen=True)
class Timetable:
    """A visit as the watch reads it (the fields the schedule and the notices use), with its plan and chain."""

    id: str
    school: str
    planned_start: datetime
    expected_return: datetime | None
    signed_out_at: datetime | None
    returned_at: datetime | None
    returning_to_school: bool
    check_ins: tuple[Contact, ...]
    shared: Shared

    @property
    def staff(self) -> tuple[StaffMember, ...]:
        """The visiting staff."""
        return self.shared.staff

    @property
    def plan(self) -> CheckInPlan:
        """The check-in plan the school's policy gave."""
        return self.shared.plan

    @property
    def chain(self) -> tuple[EscalationStep, ...]:
        """The escalation chain the school's policy gave."""
        return self.shared.chain


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def stored(visit: Visit, plan: CheckInPlan, chain: Sequence[EscalationStep]) -> dict[str, Any]:
    """The ``timetable`` and ``timetable_shared`` columns for ``visit`` given ``plan`` and ``chain`` (never the code word)."""
    return {
        "timetable": {
            "signed_out_at": _stamp(visit.signed_out_at),
            "returned_at": _stamp(visit.returned_at),
            "returning_to_school": visit.returning_to_school,
            "check_ins": [[c.at.isoformat(), c.kind, c.code_word_used] for c in visit.check_ins],
        },
        "timetable_shared": json.dumps({
            "plan": plan.model_dump(mode="json"), "chain": [s.model_dump(mode="json") for s in chain],
            "staff": [{k: getattr(s, k) for k in _STAFF_FIELDS} for s in visit.staff],
        }, sort_keys=True),
    }


EMPTY: dict[str, Any] = {"timetable": None, "timetable_shared": None}
"""The columns of a visit the watch does not look after, or must work out afresh."""


def ask(policies: Policies, visit: Visit) -> tuple[dict[str, Any], bool]:
    """The columns for ``visit`` (see :func:`stored`), asking its school's policy, and whether the policy itself answered.

    When it could not be read, the columns hold the core's default plan and chain
    with the alarm (:mod:`hv_connector.fallback`): use them, but store them not, so
    the watch asks again each time and a mended plugin is used as soon as it is back.
    """
    plan, chain = plan_and_chain(policies, visit.school, visit)
    return stored(visit, plan, chain), policies.unreadable(visit.school) is None


def plan_and_chain(policies: Policies, school: str, visit: Visit) -> tuple[CheckInPlan, list[EscalationStep]]:
    """The check-in plan and escalation chain ``school``'s policy gives ``visit``."""
    plan = policies.ask(school, "checkin_plan", visit=visit)
    chain = policies.ask(school, "escalation_chain", visit=visit)
    return plan, list(chain)


class Reader:
    """Turns stored columns into :class:`Timetable` objects, parsing each distinct ``timetable_shared`` once (they are frozen)."""

    def __init__(self) -> None:
        self._shared: dict[str, Shared] = {}

    def shared(self, text: str) -> Shared:
        """The plan, chain and staff stored as ``text``."""
        found = self._shared.get(text)
        if found is None:
            answer = json.loads(text)
            # As read from the store, the staff were checked when the visit was written: not validated again.
            staff = tuple(StaffMember.model_construct(**{**fields, "roles": tuple(fields["roles"])})
                          for fields in answer["staff"])
            found = self._shared[text] = Shared(CheckInPlan.model_validate(answer["plan"]),
                                                tuple(EscalationStep.model_validate(s) for s in answer["chain"]), staff)
        return found

    def read(self, visit_id: str, school: str, planned_start: datetime, expected_return: datetime | None,
             column: Mapping[str, Any], shared: str) -> Timetable:
        """The timetable of visit ``visit_id`` from its row's columns (``column``: ``timetable``; ``shared``: ``timetable_shared``)."""
        return Timetable(
            id=visit_id, school=school, planned_start=planned_start, expected_return=expected_return,
            signed_out_at=_moment(column["signed_out_at"]), returned_at=_moment(column["returned_at"]),
            returning_to_school=column["returning_to_school"],
            check_ins=tuple(Contact(datetime.fromisoformat(at), kind, used) for at, kind, used in column["check_ins"]),
            shared=self.shared(shared),
        )
