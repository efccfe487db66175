"""Proposed visits: what each school's attendance triggers propose, most urgent first, for the DSL team to decide.

Every open proposal is listed (the table draws only the rows in view). The highlighted one's figures and clause
show under the table. A school whose attendance could not be evaluated is named in the status line with why,
so an empty list never passes for "nobody needs a visit".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rich.text import Text
from textual import on, work
from textual.worker import get_current_worker

from hv_connector.proposals.decide import Decision as Decided
from hv_connector.read.proposals import ProposalRow
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import Decision, DecisionDialog
from hvc_tui.messages import ProposalDecided, ProposalsLoaded
from hvc_tui.screens.base import ListScreen, keys, reload_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.stable_table import StableTable

COLUMNS = (("Urgency", None), ("Pupil", None), ("School", None), ("Proposes", None), ("Trigger", 32),
           ("Figure", 24), ("Weeks", None), ("Since", None), ("Visit already", 40))
URGENCY = {"urgent": ("‼ urgent", "bold red"), "soon": ("! soon", "yellow"), "routine": ("routine", "")}


class ProposedScreen(ListScreen, list_id="proposed"):
    """The proposals worklist: accept (a visit request, through the normal authorisation) or dismiss with a reason."""

    TITLE = "Proposed visits"
    COLUMNS = COLUMNS
    WHOLE = frozenset({"Pupil"})
    PANE = "why"
    BINDINGS = [
        *keys("proposed",
              ("a", "accept", "Accept", "Request the visit the highlighted proposal suggests (or record the referral)"),
              ("d", "dismiss", "Dismiss", "Dismiss the highlighted proposal, with a reason"),
              ("m", "more", "More", "Show the next most urgent proposals as well")),
        reload_key("proposed", "Read the proposals again"),
    ]
    PAGE = 200
    """Proposals put on screen at first, and added by each press of ``m``: the most urgent, never a silent cap."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ProposalRow] = {}
        self.limit = self.PAGE

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="proposed", exit_on_error=False)
    def load(self) -> None:
        found = self.app.session.proposals(self.limit)
        if not get_current_worker().is_cancelled:  # a newer read (after a decision) has started: it has the truth
            self.post_message(ProposalsLoaded(found))

    @on(ProposalsLoaded)
    def _show(self, message: ProposalsLoaded) -> None:
        found = message.proposals
        shown = found.rows[:self.limit]
        self.rows = {row.id: row for row in shown}
        self.query_one(StableTable).replace_rows([(row.id, _cells(row)) for row in shown])
        missing = [f"{line.school_id}: no proposals — {line.problem()}" for line in found.schools if line.problem()]
        count = (f"{len(found.rows)} open proposals, all shown" if len(shown) == len(found.rows) else
                 f"the {len(shown)} most urgent of {len(found.rows)} open proposals shown · m: {self.PAGE} more")
        self.show_status("\n".join([f"{count}, most urgent first", *missing]))
        self.show_explained()

    def action_more(self) -> None:
        """Put the next :attr:`PAGE` most urgent proposals on screen too."""
        if len(self.rows) >= self.limit:
            self.limit += self.PAGE
            self.load()

    def explain(self, key: str) -> Text:
        """Why the proposal ``key`` was made: the trigger and its figures, the policy's clause, any earlier visit."""
        row = self.rows.get(key)
        parts = [] if row is None else [f"{row.trigger.title} — {row.figure_line()}", row.trigger.clause,
                                        *([f"Already: {row.visited_line()}"] if row.visited_line() else [])]
        return Text("\n".join(cells.plain(part) for part in parts))

    def _chosen(self) -> ProposalRow | None:
        row = self.rows.get(self.selected_key or "")
        if row is None:
            self.notify("No proposal is highlighted.", severity="warning")
        return row

    def action_accept(self) -> None:
        row = self._chosen()
        if row is None:
            return
        what = "request a visit" if row.trigger.proposes.value == "visit" else "record a referral to the local authority"
        self.app.push_screen(ConfirmDialog(f"Accept for {row.pupil_name}: {row.trigger.title}? This will {what}."),
                             lambda yes: self.decide(lambda: self.app.session.accept_proposal(row.id)) if yes else None)

    def action_dismiss(self) -> None:
        row = self._chosen()
        if row is None:
            return

        def chosen(decision: Decision | None) -> None:
            if decision is not None:
                self.decide(lambda: self.app.session.dismiss_proposal(row.id, decision.text))

        self.app.push_screen(DecisionDialog(f"Dismiss for {row.pupil_name}: {row.trigger.title}",
                                            prompt="Why no visit is needed", confirm="Dismiss"), chosen)

    @work(thread=True, exclusive=True, group="proposed-decide", exit_on_error=False)
    def decide(self, act: Callable[[], Decided]) -> None:
        self.post_message(ProposalDecided(act()))

    @on(ProposalDecided)
    def _decided(self, message: ProposalDecided) -> None:
        proposal, visit = message.decision.proposal, message.decision.visit
        done = f"Visit {visit.record.id} requested; it goes to its authoriser." if visit else (
            "No visit: record the referral in the pupil's attendance file." if proposal.status == "accepted" else "")
        self.notify(f"{proposal.pupil_name}: proposal {proposal.status}. {done}", title="Proposal decided")
        self.load()

    def action_reload(self) -> None:
        self.load()


@lru_cache(maxsize=256)
def _shared(value: str | None) -> Text:
    """A cell every row with this value shares (schools, trigger titles, no visit): made once, not once a row."""
    return cells.literal(value)


def _cells(row: ProposalRow) -> tuple[Text, ...]:
    words, style = URGENCY[row.trigger.urgency.value]
    proposes = "visit" if row.trigger.proposes.value == "visit" else "notify LA"
    value = row.measure_value
    figure = "—" if value is None else f"{value:g} ({'<' if row.trigger.below else '≥'} {row.trigger.threshold:g})"
    return (Text(words, style=style), cells.literal(row.pupil_name), _shared(row.school_id),
            Text(proposes, style="" if proposes == "visit" else "bold magenta"), _shared(row.trigger.title),
            Text(figure), Text(row.sparkline(), style="cyan"), cells.when(row.first_met_at),
            _shared(row.visited_line() or None))
