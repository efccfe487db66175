"""A visit's life as a state machine: its states, the actions on it, and which action goes where.

::

    requested ─authorise─► authorised ─sign-out─► signed-out ─return─► returned ─report─► reported ─close─► closed
        └─decline─► declined                     │  ▲    │                ▲
                                    (watch) late │  │    │ (watch) code   │
                                                 ▼  │    ▼ word / late    │
                                          overdue ─extend  escalated ─────┘ return
                                             └─(watch)──────► ▲   (an overdue visit may also return)

    cancel / abort, with a reason: from any open state (requested … returned) to cancelled / aborted.

Pure logic, no store: :mod:`hv_connector.visits.service` runs the actions in transactions.
"""

from __future__ import annotations

from enum import Enum

from hv_connector.errors import RefusedError
from hv_connector.models import Stage


class State(str, Enum):
    """Where a visit is in its life."""

    REQUESTED = "requested"
    AUTHORISED = "authorised"
    DECLINED = "declined"
    SIGNED_OUT = "signed-out"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    RETURNED = "returned"
    REPORTED = "reported"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


OPEN: tuple[State, ...] = (
    State.REQUESTED, State.AUTHORISED, State.SIGNED_OUT, State.OVERDUE, State.ESCALATED, State.RETURNED,
)
"""States a visit can still be cancelled or aborted from."""

OUT: tuple[State, ...] = (State.SIGNED_OUT, State.OVERDUE, State.ESCALATED)
"""States in which staff are out on the visit, in the order the watch moves a visit along them."""

WATCHED: tuple[State, ...] = (*OUT, State.RETURNED)
"""States the watch looks after: staff out, and ``returned`` (a plan may expect a "home safe" call after)."""

FINISHING: tuple[State, ...] = (State.REPORTED, State.CANCELLED, State.ABORTED)
"""States whose arrival writes the visit's CPOMS record to the outbox."""


class Action(str, Enum):
    """Something a person (or the watch) does to a visit. The value is the CLI's word for it."""

    AUTHORISE = "authorise"
    DECLINE = "decline"
    OVERRIDE = "override"
    ACK = "ack"
    SIGN_OUT = "sign-out"
    CHECK_IN = "check-in"
    EXTEND = "extend"
    MARK_OVERDUE = "mark-overdue"
    MARK_ESCALATED = "mark-escalated"
    RETURN = "return"
    REPORT = "report"
    CLOSE = "close"
    CANCEL = "cancel"
    ABORT = "abort"

    @property
    def automatic(self) -> bool:
        """Taken by the watch from the clock, not offered to a person."""
        return self in (Action.MARK_OVERDUE, Action.MARK_ESCALATED)

    @property
    def past(self) -> str:
        """The action in the past tense, for messages ("already authorised")."""
        return _PAST[self]


_PAST = {
    Action.AUTHORISE: "authorised", Action.DECLINE: "declined", Action.OVERRIDE: "overridden",
    Action.ACK: "acknowledged", Action.SIGN_OUT: "signed out", Action.CHECK_IN: "checked in",
    Action.EXTEND: "extended", Action.MARK_OVERDUE: "marked overdue", Action.MARK_ESCALATED: "escalated",
    Action.RETURN: "returned", Action.REPORT: "reported", Action.CLOSE: "closed", Action.CANCEL: "cancelled",
    Action.ABORT: "aborted",
}

_S = State
TRANSITIONS: dict[Action, dict[State, State]] = {
    Action.AUTHORISE: {_S.REQUESTED: _S.AUTHORISED},
    Action.DECLINE: {_S.REQUESTED: _S.DECLINED},
    Action.OVERRIDE: {_S.REQUESTED: _S.REQUESTED, _S.AUTHORISED: _S.AUTHORISED},
    Action.ACK: {_S.REQUESTED: _S.REQUESTED, _S.AUTHORISED: _S.AUTHORISED},
    Action.SIGN_OUT: {_S.AUTHORISED: _S.SIGNED_OUT},
    Action.CHECK_IN: {_S.SIGNED_OUT: _S.SIGNED_OUT, _S.OVERDUE: _S.OVERDUE, _S.ESCALATED: _S.ESCALATED},
    # More time asked for: an overdue visit is back in time, so it is simply out again.
    Action.EXTEND: {_S.SIGNED_OUT: _S.SIGNED_OUT, _S.OVERDUE: _S.SIGNED_OUT},
    Action.MARK_OVERDUE: {_S.SIGNED_OUT: _S.OVERDUE},
    # From signed-out too: a code word jumps straight to the escalation.
    Action.MARK_ESCALATED: {_S.SIGNED_OUT: _S.ESCALATED, _S.OVERDUE: _S.ESCALATED},
    Action.RETURN: {state: _S.RETURNED for state in OUT},
    Action.REPORT: {_S.RETURNED: _S.REPORTED},
    Action.CLOSE: {_S.REPORTED: _S.CLOSED},
    Action.CANCEL: {state: _S.CANCELLED for state in OPEN},
    Action.ABORT: {state: _S.ABORTED for state in OPEN},
}
"""action → {from state → to state}: every legal move, and nothing else."""

STAGES: dict[Action, Stage] = {
    Action.AUTHORISE: Stage.AUTHORISE, Action.DECLINE: Stage.AUTHORISE, Action.OVERRIDE: Stage.AUTHORISE,
    Action.ACK: Stage.AUTHORISE, Action.SIGN_OUT: Stage.SIGN_OUT, Action.CHECK_IN: Stage.DURING,
    Action.EXTEND: Stage.DURING, Action.MARK_OVERDUE: Stage.DURING, Action.MARK_ESCALATED: Stage.DURING,
    Action.RETURN: Stage.RETURN, Action.REPORT: Stage.AFTER, Action.CLOSE: Stage.AFTER,
    Action.CANCEL: Stage.AFTER, Action.ABORT: Stage.AFTER,
}
"""The policy stage whose findings (and every earlier stage's) are computed and stored with each action."""


def allowed(state: State) -> list[Action]:
    """The actions a person may take on a visit in ``state``, in lifecycle order."""
    return [action for action, moves in TRANSITIONS.items() if state in moves and not action.automatic]


def describe_allowed(state: State) -> str:
    """"Allowed now: sign-out, override, …" (or that nothing more can happen)."""
    actions = allowed(state)
    if not actions:
        return f"{state.value} is final: nothing more can be done to the visit."
    return "allowed now: " + ", ".join(action.value for action in actions) + "."


def next_state(state: State, action: Action, *, visit_id: str = "", last: str = "") -> State:
    """The state ``action`` leads to from ``state``, or :class:`RefusedError` saying why not.

    :param last: who moved the visit to ``state`` and when (e.g. "by Jo Smith at 10:02"), for the message.
    """
    target = TRANSITIONS[action].get(state)
    if target is not None:
        return target
    name = f"Visit {visit_id}" if visit_id else "The visit"
    how = f" {last}" if last else ""
    if action.past.replace(" ", "-") == state.value:
        raise RefusedError(f"{name} was already {action.past}{how}; {describe_allowed(state)}")
    raise RefusedError(f"{name} is {state.value}{how}, so it cannot be {action.past}; {describe_allowed(state)}")
