"""Small shared vocabularies: stages, severities and staff roles."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

FIRST_YEAR, LAST_YEAR = 2000, 2099
"""The years a visit's times may fall in. Outside them a time is a typo (year 1, 9999), and one near
the ends of the calendar cannot even be turned to London time without overflowing."""


def check_plausible(moment: datetime) -> datetime:
    """``moment`` itself, or a :class:`ValueError` when it is outside :data:`FIRST_YEAR`–:data:`LAST_YEAR`."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR}–{LAST_YEAR}, not {moment.year}")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(check_plausible)]
"""A timezone-aware time in the years a visit can happen."""


class Frozen(BaseModel):
    """Base of domain objects: immutable, and strict about unknown fields."""

    # Each model builds its validator on first use, not at import: a command (`hvc status`) pays only for
    # the models it touches, and about thirty it never does cost more than the rest of its start.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def from_checked(cls, values: dict[str, Any]) -> Self:
        """The object ``values`` describe, already in the form validation gives, without validating them again.

        For the policy engine's own hot path (a finding for every broken rule on
        every visit, a context for every visit), where every value comes from a
        validated object: ``values`` holds every field, each of its validated
        type (a :class:`Severity`, not ``"warn"``; a tuple, not a list), and
        becomes the object's own, so pass a fresh dict. The result equals what
        validation builds (a property test holds this for findings). Anything
        from outside goes through validation instead.
        """
        # pydantic's model_construct walks every field's aliases and defaults: most of a finding's cost.
        built = cls.__new__(cls)
        object.__setattr__(built, "__dict__", values)
        object.__setattr__(built, "__pydantic_fields_set__", set(values))
        object.__setattr__(built, "__pydantic_extra__", None)
        object.__setattr__(built, "__pydantic_private__", None)
        return built


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
