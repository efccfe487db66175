"""Staff as the policies see them: roles, a phone, checks and training."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from hv_connector.models.common import ROLES, Frozen


class StaffMember(Frozen):
    """One member of staff from the school's directory."""

    id: str = Field(min_length=1)
    """The directory id, e.g. ``"bw-dsl-1"``."""
    name: str = Field(min_length=1)
    roles: tuple[str, ...] = ()
    """Roles such as ``dsl``, ``slt``, ``headteacher``, ``line-manager``, ``office``, ``pflo``."""
    mobile: str | None = None
    email: str | None = None
    dbs: Literal["enhanced", "standard", "basic", "none"] | None = None
    """The level of the DBS check on record."""
    dbs_checked_on: date | None = None
    cp_trained_on: date | None = None
    """Date of the last child-protection training."""
    home_visit_trained: bool = False
    """Specifically trained in home visiting (e.g. an education welfare officer)."""
    logins: tuple[str, ...] = ()
    """The person's own OS login(s) on the server: running ``hvc`` as one of them acts as this person."""
    ssh_keys: tuple[str, ...] = ()
    """The person's SSH public keys (``ssh-ed25519 AAAA… comment``): signing in to the service account with one
    acts as this person (``hvc access authorized-keys``)."""

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(roles) - ROLES)
        if unknown:
            from difflib import get_close_matches  # only for a wrong role: every run that loads staff skips it

            # A misspelt role ("ofice") would leave that person off every escalation step: say which was meant.
            meant = [f"{role} (did you mean {close[0]}?)" if (close := get_close_matches(role, sorted(ROLES), n=1)) else role
                     for role in unknown]
            raise ValueError(f"unknown role(s) {', '.join(meant)}; known roles: {', '.join(sorted(ROLES))}")
        return roles

    def has_any(self, roles: Iterable[str]) -> bool:
        """Whether this person holds at least one of ``roles``."""
        return not set(self.roles).isdisjoint(roles)
