"""The live board: who is out, where, due back when, check-ins due, who is late and how far the
school's escalation chain has gone; record a check-in, give more time, mark staff back, acknowledge a
step, escalate now, stand down.

It reads the store again every few seconds in a worker (the newest tick wins, ``exclusive``) and
repaints in place, so the highlighted row and the scroll position stay where the person left them. The table keeps
the facts that fit the terminal; the highlighted visit's facts are whole under it (``#detail``), mobiles and the
escalation step's words included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.worker import get_current_worker

from hv_connector.clock import local
from hv_connector.models import Severity, Stage
from hv_connector.visits.lifecycle import State
from hv_connector.watch.escalations import BoardRow, EscalationView
from hvc_tui.dialogs.check_in import CheckInDialog, CheckInEntry
from hvc_tui.dialogs.confirm import ConfirmDialog
from hvc_tui.dialogs.decision import Decision, DecisionDialog
from hvc_tui.dialogs.extend import ExtendDialog, Extension
from hvc_tui.forms import show_time
from hvc_tui.messages import BoardLoaded, EscalationActed
from hvc_tui.screens.base import ListScreen, keys, reload_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.stable_table import StableTable

COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("Status", None), ("Pupil", None), ("Staff and mobiles", None), ("Back by", None), ("Next check-in", 13),
    ("Escalation: what to do", 60), ("Last contact", 22), ("Out at", None), ("Where", 28), ("Visit", None))
"""Column labels and widths, what answers "is everyone safe?" first: long texts are cut to fit, and the pupil and
the staff are never cut (:data:`BoardScreen.WHOLE`). The highlighted row's facts are whole under the table."""
SHORT_LABELS = {"Staff and mobiles": "Staff"}
"""Over the staff's names alone, where the board is too narrow for their mobiles (they are under the table)."""
FEWEST = {"Escalation: what to do": 36}
"""The escalation column is never squeezed below the step and the first words of what it asks."""


def status_cell(row: BoardRow, now: datetime) -> Text:
    """The state with its symbol, and how late (never colour alone)."""
    text = cells.state(row.state)
    if row.overdue and row.expected_return is not None:
        if row.state == State.SIGNED_OUT:
            text = Text("▲ late", style="bold yellow")
        text.append(f" {int((now - row.expected_return).total_seconds() // 60)}m")
    return text


def step_name(row: BoardRow, *, of: bool = False) -> str:
    """The open escalation step as people count it: ``step 1`` (``step 1 of 3``), or ``all steps`` once every step
    has been taken and nobody has stood the watch down."""
    step = row.escalation
    if step is None:
        return ""
    if step.kind == "chain-exhausted":
        return "all steps"
    return f"step {step.step_index + 1}" + (f" of {len(row.steps)}" if of and row.steps else "")


def escalation_cell(row: BoardRow) -> Text:
    """The open step and what it asks, or who took it and what they did."""
    step = row.escalation
    if step is None:
        return cells.literal(None)
    text = Text(f"{step_name(row)} ", style="bold")
    if step.acknowledged_by:
        text.append(f"✔ {cells.plain(step.acknowledged_by_name)}: {cells.plain(step.note or 'taken')}", style="green")
    else:
        text.append(f"‼ {cells.plain(row.asks or step.message or step.kind)}", style="bold red")
    return text


def check_in_cell(row: BoardRow, now: datetime) -> Text:
    if row.next_check_in is None:
        return cells.literal(None)
    due = row.next_check_in <= now
    return Text(f"{'☎ DUE ' if due else ''}{cells.when(row.next_check_in, with_day=False).plain}",
                style="bold yellow" if due else "")


def contact_cell(row: BoardRow) -> Text:
    """When staff were last heard from, and how."""
    if row.last_contact is None:
        return cells.literal(None)
    return Text(f"{cells.when(row.last_contact, with_day=False).plain} {cells.plain(row.last_contact_how or '')}")


def staff_cell(row: BoardRow, elsewhere: dict[str, list[str]]) -> Text:
    """The staff with their mobiles, after a ``⚠`` when one of them is out on another visit too (the status line
    says which); where the column is too narrow, their names alone, whole (the mobiles are on the visit screen)."""
    twice = any(staff_id in elsewhere for staff_id in row.staff_ids)
    return _flagged(cells.Shortened(shorter=lambda: _flagged(Text(), row.staff, twice)), row.phones or row.staff, twice)


def _flagged(cell: Text, words: str, twice: bool) -> Text:
    """``cell`` with ``words`` (MIS text, kept literal) appended, after a ``⚠`` when ``twice``."""
    if twice:
        cell.append("⚠ ", style="bold yellow")
    cell.append(cells.plain(words))
    return cell


def out_elsewhere(rows: list[BoardRow]) -> dict[str, list[str]]:
    """Staff id → the visits they are out on, for those out on more than one."""
    out: dict[str, list[str]] = {}
    for row in rows:
        for staff_id in row.staff_ids:
            out.setdefault(staff_id, []).append(row.visit_id)
    return {staff_id: ids for staff_id, ids in out.items() if len(ids) > 1}


def row_cells(row: BoardRow, now: datetime, elsewhere: dict[str, list[str]]) -> tuple[Text, ...]:
    return (status_cell(row, now), cells.literal(row.pupil), staff_cell(row, elsewhere),
            cells.when(row.expected_return, with_day=False), check_in_cell(row, now), escalation_cell(row),
            contact_cell(row), cells.when(row.signed_out_at, with_day=False), cells.literal(row.address),
            cells.literal(row.visit_id))


def detail(row: BoardRow, now: datetime, elsewhere: dict[str, list[str]]) -> Text:
    """Every fact of ``row``, whole, a line each: the pupil and where; the staff with their mobiles; the open
    escalation step, whom it reaches and what it asks; the times. Text from outside stays text."""
    twice = sorted({visit_id for staff_id in row.staff_ids for visit_id in elsewhere.get(staff_id, ())} - {row.visit_id})
    lines = [
        Text(f"{cells.plain(row.pupil or '—')} · visit {row.visit_id} · {cells.plain(row.address or 'no address')}",
             style="bold"),
        Text(f"Staff: {cells.plain(row.phones or row.staff)}")
        + (Text(f"  ⚠ also out on {' and '.join(twice)}", style="bold yellow") if twice else Text()),
        _step_line(row),
        _times_line(row, now),
        Text("Next check-in ") + check_in_cell(row, now)
        + Text(f": {cells.plain(row.next_check_in_what)}" if row.next_check_in_what else ""),
    ]
    return Text("\n").join(lines)


def _at(moment: datetime | None) -> str:
    return cells.when(moment, with_day=False).plain


def _times_line(row: BoardRow, now: datetime) -> Text:
    """When the staff went out, were last heard from and how, and are due back (and how late, when they are)."""
    how = f" ({cells.plain(row.last_contact_how)})" if row.last_contact_how else ""
    line = Text(f"Out at {_at(row.signed_out_at)} · last contact {_at(row.last_contact)}{how} · "
                f"due back {_at(row.expected_return)}")
    return line + Text(" · ") + status_cell(row, now) if row.overdue else line


def _step_line(row: BoardRow) -> Text:
    """The open escalation step: whom it reaches and what it asks; who took it, and their note."""
    step = row.escalation
    if step is None:
        return Text("Escalation: none open", style="green")
    line = Text(f"Escalation {step_name(row, of=True)}, for {cells.plain(' and '.join(step.who)) or 'everyone'}: ",
                style="bold")
    line.append(f"‼ {cells.plain(row.asks or step.message or step.kind)}", style="bold red")
    if step.acknowledged_by:
        line.append(f"  ✔ taken by {cells.plain(step.acknowledged_by_name)}: {cells.plain(step.note or 'taken')}",
                    style="green")
    return line


class BoardScreen(ListScreen, list_id="board"):
    """Visits that are out, escalated first, refreshed on a timer."""

    TITLE = "Live board"
    COLUMNS = COLUMNS
    WHOLE = frozenset({"Pupil", "Staff and mobiles"})
    PANE = "detail"
    BINDINGS = [
        *keys("board",
              ("c", "check_in", "Check-in",
               "Record a contact with the highlighted visit's staff (code word used, concerns, a note)"),
              ("k", "acknowledge", "Ack",
               "Acknowledge the highlighted escalation step (\"phoned, no answer\"): the first to take it wins"),
              ("x", "stand_down", "Stand down", "Staff are safe: stand the watch down for the highlighted visit"),
              ("m", "extend", "More time", "Staff asked for more time: move the expected return later (audited)"),
              ("r", "return", "Staff back", "Staff are back: the visit leaves the board and the watch stands down"),
              ("e", "escalate", "Escalate", "Fire the chain's next step now instead of waiting for its time limit")),
        *keys("board", ("o", "open", "Open", "Show the highlighted visit's detail (Enter does too)")),
        reload_key("board", "Read the board again now (it reads itself every few seconds)"),
    ]
    """Most used first: where the footer is too narrow for every key, those at the end are left out of it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, BoardRow] = {}
        self.elsewhere: dict[str, list[str]] = {}
        """Staff id → the visits they are out on, for those out on more than one (:func:`out_elsewhere`)."""

    def compose(self) -> ComposeResult:
        yield from self.list_layout(self.list_table(short_labels=SHORT_LABELS, fewest=FEWEST))

    def on_mount(self) -> None:
        self.timer = self.set_interval(self.app.board_seconds, self.load)

    def on_screen_resume(self) -> None:
        self.timer.resume()
        self.load()

    def on_screen_suspend(self) -> None:
        self.timer.pause()

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def load(self) -> None:
        """One board tick: read who is out (the newest tick wins)."""
        rows = self.app.session.board()
        if not get_current_worker().is_cancelled:
            self.post_message(BoardLoaded(rows))

    @on(BoardLoaded)
    def _show(self, message: BoardLoaded) -> None:
        now = self.app.session.now
        self.rows = {row.visit_id: row for row in message.rows}
        self.elsewhere = elsewhere = out_elsewhere(message.rows)
        self.query_one(StableTable).replace_rows([(row.visit_id, row_cells(row, now, elsewhere))
                                                  for row in message.rows])
        self.show_explained()
        late = sum(1 for row in message.rows if row.overdue or row.escalation is not None)
        directory = self.app.session.service.directory
        twice = "".join(f" · ⚠ {cells.plain(directory.name(self.rows[ids[0]].school_id, staff_id))} out on "
                        f"{cells.plain(' and '.join(ids))} at once" for staff_id, ids in elsewhere.items())
        self.show_status(
            f"{len(message.rows)} out, {late} late or escalating{twice} · updated "
            f"{cells.when(now, with_day=False).plain} · every {self.app.board_seconds:g}s")

    def explain(self, key: str) -> Text:
        """The row ``key``'s facts whole (:func:`detail`), under the table."""
        row = self.rows.get(key)
        return Text() if row is None else detail(row, self.app.session.now, self.elsewhere)

    # --- acting on the highlighted visit -----------------------------------------------------------

    def _selected(self) -> BoardRow | None:
        key = self.selected_key
        return self.rows.get(key) if key else None

    def _escalated(self, none_open: str) -> tuple[BoardRow, EscalationView] | None:
        """The highlighted visit and its open escalation step; with none, say ``none_open`` and give ``None``."""
        row = self._selected()
        if row is None or row.escalation is None:
            self.notify(none_open, severity="warning")
            return None
        return row, row.escalation

    @work(thread=True, exclusive=True, group="board-action", exit_on_error=False)
    def act(self, what: str, call: Callable[[], Any]) -> None:
        self.post_message(EscalationActed(what, call()))

    @on(EscalationActed)
    def _acted(self, message: EscalationActed) -> None:
        # What staff reported from the home may break the policy now (a long wait, an animal loose):
        # say so here, while they are still there, not only in the report afterwards.
        live = [f for f in getattr(message.detail, "findings", ())
                if f.stage is Stage.DURING and f.severity is not Severity.INFO]
        lines = [message.what, *(f"{f.severity.value.upper()} {f.rule_id}: {f.message}" for f in live)]
        self.notify("\n".join(lines), title="Recorded", severity="warning" if live else "information", markup=False)
        self.load()

    def action_check_in(self) -> None:
        row = self._selected()
        if row is None:
            return
        session = self.app.session

        def chosen(entry: CheckInEntry | None) -> None:
            if entry is not None:
                done = (f"Code word used on {row.visit_id}: the emergency step is next." if entry.code_word_used
                        else f"Check-in on {row.visit_id} recorded.")
                self.act(done, lambda: session.check_in(row.visit_id, kind=entry.kind,
                                                        code_word_used=entry.code_word_used,
                                                        concerns=entry.concerns, note=entry.note,
                                                        door=entry.door))
        self.app.push_screen(CheckInDialog(f"Check-in for {row.visit_id} ({row.staff})"), chosen)

    def action_extend(self) -> None:
        row = self._selected()
        if row is None:
            return
        session = self.app.session
        now = session.now
        base = max(row.expected_return, now) if row.expected_return else now
        suggested = local(base + timedelta(minutes=30)).replace(second=0, microsecond=0)

        def chosen(extension: Extension | None) -> None:
            if extension is not None:
                self.act(f"{row.visit_id} now due back {show_time(extension.until)}.",
                         lambda: session.extend(row.visit_id, extension.until, extension.note))
        self.app.push_screen(ExtendDialog(f"More time for {row.visit_id} ({row.staff})", show_time(suggested),
                                          local(now).date()), chosen)

    def action_return(self) -> None:
        row = self._selected()
        if row is None:
            return
        session = self.app.session
        self._confirm(f"Are {row.staff} back from {row.visit_id}?", f"{row.visit_id}: staff back.",
                      lambda: session.return_(row.visit_id))

    def action_acknowledge(self) -> None:
        escalated = self._escalated("The highlighted visit has no open escalation step to acknowledge.")
        if escalated is None:
            return
        (row, step), session = escalated, self.app.session

        def chosen(decision: Decision | None) -> None:
            if decision is not None:
                self.act(f"Step {step.step_index + 1} on {row.visit_id} acknowledged.",
                         lambda: session.acknowledge_step(step.id, decision.text))
        self.app.push_screen(DecisionDialog(f"Acknowledge step {step.step_index + 1} on {row.visit_id}: "
                                            f"{step.message}",
                                            prompt="What you did (e.g. phoned, no answer)", required=True,
                                            confirm="Acknowledge"), chosen)

    def action_escalate(self) -> None:
        escalated = self._escalated("The highlighted visit has no running escalation to take further.")
        if escalated is None:
            return
        (row, step), session = escalated, self.app.session
        self._confirm(f"Escalate {row.visit_id} ({row.staff}) to the next step now?",
                      f"Next step fired on {row.visit_id}.", lambda: session.escalate_now(step.id))

    def action_stand_down(self) -> None:
        row = self._selected()
        if row is None:
            return
        session = self.app.session
        self._confirm(f"Stand down for {row.visit_id}: are {row.staff} safe?",
                      f"Stood down: {row.visit_id} staff safe.", lambda: session.stand_down(row.visit_id))

    def _confirm(self, question: str, done: str, call: Callable[[], Any]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.act(done, call)
        self.app.push_screen(ConfirmDialog(question), answered)

    def action_reload(self) -> None:
        self.load()
