"""What the watch uses when a school's policy cannot be read: the core's defaults, opened by an alarm.

A school whose policy plugin fails to import, raises or answers the wrong type
still has staff out on visits. They are watched with the core's check-in plan
and escalation chain (the office, then the DSL and headteacher, then everyone
on it), with one thing added in front: a call from the office, due the moment
staff signed out, whose text says the school's policy could not be read. Not
met within the plan's grace, it starts the chain like any missed check-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hv_connector.models import CheckInPlan, CheckInStep, EscalationStep


def unreadable_alarm(school_id: str, error: str) -> str:
    """What the office reads when ``school_id``'s policy could not be read (``error`` shown as plain text)."""
    return (f"{school_id}'s home-visit policy could not be read ({error}), so the watch is using the core's "
            "default check-ins and escalation chain. Phone the visiting staff now to check they are safe, record "
            "the call, and ask IT to fix the policy plugin (`hvc plugins`).")


def unreadable_plan(core: CheckInPlan, school_id: str, error: str) -> CheckInPlan:
    """The core's plan with an office call at sign-out, whose text is the alarm, in front."""
    alarm = CheckInStep(kind="office-call", who=("office",), anchor="sign-out", offset_minutes=0,
                        reminder_minutes=0, description=unreadable_alarm(school_id, error))
    return core.model_copy(update={"steps": (alarm, *core.steps)})


def unreadable_chain(core: Sequence[EscalationStep], school_id: str, error: str) -> list[EscalationStep]:
    """The core's chain, its first step saying the school's own chain could not be read."""
    first, *rest = core
    note = f"{school_id}'s policy could not be read ({error}): this is the core's default chain. "
    return [first.model_copy(update={"action": note + first.action}), *rest]


def unreadable_answer(question: str, core: Any, school_id: str, error: str) -> Any:
    """The core's answer to the watch's ``question`` (``checkin_plan`` or ``escalation_chain``), with the alarm."""
    if question == "checkin_plan":
        return unreadable_plan(core, school_id, error)
    return unreadable_chain(core, school_id, error)
