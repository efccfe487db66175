"""The lifecycle's legal moves, exactly as issue 4 draws them, and the refusals staff read."""

from __future__ import annotations

import pytest

from hv_connector.errors import RefusedError
from hv_connector.visits.lifecycle import OPEN, TRANSITIONS, Action, State, allowed, next_state

S = State
EXPECTED = {
    (S.REQUESTED, Action.AUTHORISE): S.AUTHORISED,
    (S.REQUESTED, Action.DECLINE): S.DECLINED,
    (S.AUTHORISED, Action.SIGN_OUT): S.SIGNED_OUT,
    (S.SIGNED_OUT, Action.RETURN): S.RETURNED,
    (S.SIGNED_OUT, Action.MARK_OVERDUE): S.OVERDUE,
    (S.OVERDUE, Action.MARK_ESCALATED): S.ESCALATED,
    (S.ESCALATED, Action.RETURN): S.RETURNED,
    (S.RETURNED, Action.REPORT): S.REPORTED,
    (S.REPORTED, Action.CLOSE): S.CLOSED,
}


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED, key=str))
def test_the_issue_path_is_legal(state: State, action: Action) -> None:
    assert next_state(state, action) is EXPECTED[(state, action)]


@pytest.mark.parametrize("state", OPEN)
@pytest.mark.parametrize(("action", "final"), [(Action.CANCEL, S.CANCELLED), (Action.ABORT, S.ABORTED)])
def test_cancel_and_abort_from_every_open_state(state: State, action: Action, final: State) -> None:
    assert next_state(state, action) is final


@pytest.mark.parametrize("state", [S.DECLINED, S.CLOSED, S.CANCELLED, S.ABORTED])
def test_final_states_allow_nothing(state: State) -> None:
    assert allowed(state) == []
    for action in Action:
        with pytest.raises(RefusedError, match=f"{state.value}.*{state.value} is final"):
            next_state(state, action)


def test_no_shortcut_from_requested_to_signed_out() -> None:
    with pytest.raises(RefusedError) as refused:
        next_state(S.REQUESTED, Action.SIGN_OUT, visit_id="v-1")
    assert str(refused.value) == (
        "Visit v-1 is requested, so it cannot be signed out; "
        "allowed now: authorise, decline, override, ack, cancel, abort."
    )


def test_a_repeated_action_says_who_did_it_first() -> None:
    with pytest.raises(RefusedError, match="^Visit v-1 was already authorised by Jo Smith at 10:02; allowed now: "):
        next_state(S.AUTHORISED, Action.AUTHORISE, visit_id="v-1", last="by Jo Smith at 10:02")


def test_watch_actions_are_not_offered_to_people() -> None:
    assert Action.MARK_OVERDUE not in allowed(S.SIGNED_OUT)
    assert next_state(S.SIGNED_OUT, Action.MARK_ESCALATED) is S.ESCALATED  # a code word jumps straight there


def test_every_move_lands_in_a_known_state_and_reported_only_closes() -> None:
    assert {to for moves in TRANSITIONS.values() for to in moves.values()} <= set(State)
    assert allowed(S.REPORTED) == [Action.CLOSE]
