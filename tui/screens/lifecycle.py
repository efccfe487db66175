"""The keys a visit's state allows, on every screen that acts on one visit: the visit screen and the visits list.

A key shows in the footer only while the visit it would act on is in a state that allows it
(:func:`hv_connector.visits.lifecycle.allowed`); each action goes through the same
:class:`~hvc_tui.session.Session` call, and so the same service and audit entry, as its ``hvc visit`` command.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work

from hv_connector.visits.lifecycle import Action, State, allowed
from hv_connector.visits.records import ActionResult
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import Decision, DecisionDialog
from hvc_tui.messages import VisitActed
from hvc_tui.screens.base import HvcScreen, keys
from hvc_tui.screens.report import ReportScreen

ACTIONS: dict[str, Action] = {
    "authorise": Action.AUTHORISE, "decline": Action.DECLINE, "override": Action.OVERRIDE,
    "acknowledge": Action.ACK, "sign_out": Action.SIGN_OUT, "cancel": Action.CANCEL, "abort": Action.ABORT,
    "report": Action.REPORT, "close": Action.CLOSE,
}
"""A screen's action name → the lifecycle action it takes."""
BEFORE_LEAVING = (State.REQUESTED, State.AUTHORISED)
"""States in which a visit is cancelled; once staff have left it is aborted."""


def offered(action: Action, state: State) -> bool:
    """Whether a visit in ``state`` offers ``action``: what the lifecycle allows, with cancel before staff leave
    and abort after."""
    if action is Action.CANCEL and state not in BEFORE_LEAVING:
        return False
    if action is Action.ABORT and state in BEFORE_LEAVING:
        return False
    return action in allowed(state)


class LifecycleScreen(HvcScreen):
    """A screen acting on one visit at a time (:meth:`visit_target`): sign out, cancel, abort, report, close."""

    TITLE = "A visit, by its state (visits list and visit screen)"
    BINDINGS = keys(
        "lifecycle",
        ("s", "sign_out", "Sign out", "Staff are leaving for the home now: the watch looks after them from now"),
        ("c", "cancel", "Cancel visit", "The visit will not happen: cancel it, with a reason"),
        ("b", "abort", "Abort", "Stop a visit already under way, with a reason"),
        ("w", "report", "Report", "Write the report after the visit (arrival, who was present, the child's words …)"),
        ("l", "close", "Close", "The report's follow-ups are done: close the visit (authorisers only)"),
    )

    def visit_target(self) -> tuple[str, State] | None:
        """The visit the keys act on and its state (``None``: none yet)."""
        raise NotImplementedError

    def action_reload(self) -> None:
        """Read the visit(s) again."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show a lifecycle key only while the visit it acts on is in a state that allows it."""
        lifecycle = ACTIONS.get(action)
        if lifecycle is None:
            return True
        target = self.visit_target()
        return target is not None and offered(lifecycle, target[1])

    @work(thread=True, exclusive=True, group="visit-action", exit_on_error=False)
    def act(self, call: Callable[[], ActionResult]) -> None:
        """Run one lifecycle action; the result (or the refusal) comes back as a message."""
        self.post_message(VisitActed(call()))

    @on(VisitActed)
    def _acted(self, message: VisitActed) -> None:
        result = message.result
        self.notify(f"Visit {result.record.id}: {result.event} done; it is now {result.record.state.value}.",
                    title="Recorded")
        self.action_reload()

    def ask(self, dialog: DecisionDialog, then: Callable[[Decision], Callable[[], ActionResult]]) -> None:
        """Open ``dialog``; with a decision, run the action ``then`` builds from it."""
        def chosen(decision: Decision | None) -> None:
            if decision is not None:
                self.act(then(decision))
        self.app.push_screen(dialog, chosen)

    def _target(self, action: Action) -> str | None:
        """The visit's id if it still offers ``action`` (a key pressed as the list repaints may be stale)."""
        target = self.visit_target()
        if target is None or not offered(action, target[1]):
            return None
        return target[0]

    def action_sign_out(self) -> None:
        visit_id = self._target(Action.SIGN_OUT)
        if visit_id is not None:
            self.ask_sign_out(visit_id)

    @work(thread=True, exclusive=True, group="visit-action", exit_on_error=False)
    def ask_sign_out(self, visit_id: str) -> None:
        """Ask before signing out, saying which of the visit's staff are out on another visit already."""
        session = self.app.session
        busy = session.already_out(visit_id)

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(lambda: session.sign_out(visit_id))
        question = " ".join([f"Sign out visit {visit_id} now? Its staff are leaving for the home, and the watch will "
                             "expect their check-ins from now.", *(f"⚠ {line}" for line in busy)])
        self.app.call_from_thread(self.app.push_screen, ConfirmDialog(question), answered)

    def action_cancel(self) -> None:
        self._finish_early(Action.CANCEL, "it will not happen", "Why it is cancelled")

    def action_abort(self) -> None:
        self._finish_early(Action.ABORT, "it stops part way", "Why it stopped")

    def _finish_early(self, action: Action, meaning: str, prompt: str) -> None:
        """Cancel or abort the visit with the reason asked for; the outbox record gives the reason."""
        visit_id, session = self._target(action), self.app.session
        if visit_id is None:
            return
        call = session.cancel if action is Action.CANCEL else session.abort
        self.ask(DecisionDialog(f"{action.value.capitalize()} visit {visit_id}: {meaning}, and its record says why",
                                prompt=prompt, confirm=f"{action.value.capitalize()} visit"),
                 lambda d: lambda: call(visit_id, d.text))

    def action_close(self) -> None:
        visit_id, session = self._target(Action.CLOSE), self.app.session
        if visit_id is not None:
            self.ask(DecisionDialog(f"Close visit {visit_id}: its follow-ups are done", prompt="Note",
                                    required=False, confirm="Close visit"),
                     lambda d: lambda: session.close(visit_id, d.text))

    def action_report(self) -> None:
        visit_id = self._target(Action.REPORT)
        if visit_id is not None:
            self.app.push_screen(ReportScreen(visit_id))
