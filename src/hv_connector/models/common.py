"""Small shared vocabularies: stages, severities and staff roles."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of domain objects: immutable, and strict about unknown fields."""

    # Each model builds its validator on first use, not at import: a command (`hvc status`) pays only for
    # the models it touches, and about thirty it never does cost more than the rest of its start.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Stage(str, Enum):
    """When in a visit's life a rule applies, in order."""

    REQUEST = "request"
    AUTHORISE = "authorise"
    SIGN_OUT = "sign-out"
    DURING = "during"
    RETURN = "return"
    AFTER = "after"

    @property
    def order(self) -> int:
        return STAGE_ORDER.index(self)


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Severity(str, Enum):
    """How a finding weighs: a block stops the visit, a warn needs acknowledging, info reminds."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


ROLES: frozenset[str] = frozenset(
    {
        "dsl",
        "deputy-dsl",
        "slt",
        "headteacher",
        "line-manager",
        "office",
        "office-manager",
        "pflo",
        "admin",
        "attendance-officer",
        "teacher",
        "pastoral",
        "ta",
    }
)
"""Roles a staff directory may give. ``pflo`` is a Pupil and Family Liaison Officer."""
