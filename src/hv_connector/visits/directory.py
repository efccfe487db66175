"""Who is who in each school: the staff directories and policy options the visit service reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hv_connector.config.settings import MAX_VISIT_HOURS, Settings
from hv_connector.errors import AccessRefused, InputError, excerpt
from hv_connector.humanize import person
from hv_connector.models import StaffMember

OFFICE_ROLES = frozenset({"office", "office-manager"})
"""Roles that keep the visit log: they sign staff out and in, take check-ins and may see the code word."""


@dataclass(frozen=True)
class Directory:
    """The configured schools: each one's staff directory and its policy options.

    :param staff: school id → staff id → member.
    :param options: school id → the options its policy rules read (e.g. ``evening_from``).
    :param max_visit_hours: school id → its ``max_visit_hours`` (a school not named has the core default).
    """

    staff: Mapping[str, Mapping[str, StaffMember]]
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_visit_hours: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Directory:
        """Every configured school (with or without staff yet), its directory and its options."""
        return cls(staff={school.id: settings.staff_of(school.id) for school in settings.schools},
                   options={school.id: dict(school.options) for school in settings.schools},
                   max_visit_hours={school.id: school.max_visit_hours for school in settings.schools})

    def longest_visit(self, school_id: str) -> timedelta:
        """How long the school lets a visit be planned to last, start to expected return."""
        return timedelta(hours=self.max_visit_hours.get(school_id, MAX_VISIT_HOURS))

    def schools(self) -> list[str]:
        """The configured school ids."""
        return sorted(self.staff)

    def member(self, school_id: str, staff_id: str) -> StaffMember | None:
        """The school's directory entry for ``staff_id``, if any."""
        return self.staff.get(school_id, {}).get(staff_id)

    def schools_of(self, staff_id: str) -> list[str]:
        """The schools whose directory holds ``staff_id``; :class:`InputError` when none does."""
        schools = [school for school in self.schools() if self.member(school, staff_id)]
        if not schools:
            raise InputError(f"--as: {excerpt(staff_id)} is not in any school's staff directory; use a directory id "
                             "(`hvc config show` lists them)")
        return schools

    def require_school(self, staff_id: str, school_id: str, what: str) -> None:
        """Refuse ``what`` (e.g. "visit v-1") unless ``school_id`` is one of the schools naming ``staff_id``.

        :raises AccessRefused: it is another school's: the message names the person's schools.
        """
        schools = self.schools_of(staff_id)
        if school_id not in schools:
            raise AccessRefused(f"{what} belongs to {school_id}, and {self.name(schools[0], staff_id)} works in "
                                f"{', '.join(schools)} only; ask someone at {school_id}, or have your directory "
                                f"entry added to {school_id}'s staff")

    def name(self, school_id: str, staff_id: str) -> str:
        """"Jo Smith" for a directory id, "the watch" for the watch, or the id itself when the person has left."""
        return person(staff_id, self.names(school_id))

    def names(self, school_id: str) -> dict[str, str]:
        """Staff id → name in the school's directory."""
        return {member.id: member.name for member in self.staff.get(school_id, {}).values()}

