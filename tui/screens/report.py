"""The report after a visit: arrival and departure, who was present, the child seen and their words,
what was agreed, concerns and actions. Saving records the report and writes its outbox record."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Header, Input, Label, TextArea

from hv_connector.clock import local
from hv_connector.visits.input import parse_outcome
from hv_connector.visits.lifecycle import State
from hvc_tui.forms import lines, parse_people, parse_time
from hvc_tui.messages import DetailLoaded, VisitActed
from hvc_tui.screens.base import VisitDetailScreen, keys, leave_key
from hvc_tui.widgets import cells
from hvc_tui.widgets.footer import Footer

FLAGS = (("child_seen", "Child seen"), ("child_spoken_to", "Child spoken to"),
         ("child_seen_alone", "Child seen alone"), ("entered_home", "Entered the home"),
         ("cp_concern", "Child-protection concern"), ("violence_or_abuse", "Violence or abuse towards staff"))
TEXTS = (("child_words", "The child's words"), ("discussion", "What was discussed"),
         ("agreements", "What was agreed (one per line)"), ("concerns", "Concerns"),
         ("action_points", "Actions (one per line)"))


class ReportScreen(VisitDetailScreen):
    """The report form for one visit; nothing typed is lost if saving fails."""

    CSS_PATH = "report.tcss"
    TITLE = "Report form"
    BINDINGS = [
        *keys("report", ("ctrl+s", "save", "Save report", "Record the report; its record goes to the outbox")),
        leave_key("report", "Leave the form (nothing is saved; asks first when something is typed)"),
    ]
    day: date | None = None
    """The visit's planned day, once its detail is read: times typed without a day are on it."""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Label(Text(f"Report on visit {self.visit_id}", style="bold"), id="heading")
            with Horizontal(classes="row"):
                yield Label("Arrived (HH:MM)")
                yield Input(id="arrived_at", placeholder="10:05")
                yield Label("Left (HH:MM)")
                yield Input(id="departed_at", placeholder="10:50")
            yield Label("Who was present: Name (relationship); …")
            yield Input(id="present", placeholder="Ann Example (mother); Bo Example (brother)")
            with Horizontal(classes="flags"):
                for name, label in FLAGS:
                    yield Checkbox(label, id=name)
            for name, label in TEXTS:
                yield Label(label)
                yield TextArea(id=name, classes="text")
            yield Button("Save report", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:  # then VisitDetailScreen's: Textual calls each class's handler
        self.mark_untouched()

    @on(DetailLoaded)
    def _loaded(self, message: DetailLoaded) -> None:
        record = message.detail.record
        if record.state is not State.RETURNED:
            self.dismiss_saying(f"Visit {record.id} is {record.state.value}: a report is written once its staff are "
                                "back (returned).", title="No report yet", severity="warning")
            return
        visit = record.visit
        self.day = local(visit.planned_start).date()
        self.query_one("#heading", Label).update(Text(
            f"Report on visit {self.visit_id}: {cells.plain(visit.pupil.name)}, {cells.plain(visit.address or 'no address')}",
            style="bold"))

    def document(self) -> dict[str, Any]:
        """The outcome as typed (raises InputError naming a field that cannot be read)."""
        day = self.day or self.app.session.today
        text = {name: self.query_one(f"#{name}", TextArea).text for name, _ in TEXTS}
        return {
            "arrived_at": parse_time(self.query_one("#arrived_at", Input).value, "arrived", day),
            "departed_at": parse_time(self.query_one("#departed_at", Input).value, "left", day),
            "persons_present": [p.model_dump() for p in parse_people(self.query_one("#present", Input).value)],
            **{name: self.query_one(f"#{name}", Checkbox).value for name, _ in FLAGS},
            "child_words": text["child_words"].strip(), "discussion": text["discussion"].strip(),
            "concerns": text["concerns"].strip(), "agreements": lines(text["agreements"]),
            "action_points": lines(text["action_points"]),
        }

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.save()

    @work(thread=True, exclusive=True, group="report-save", exit_on_error=False)
    def save(self) -> None:
        outcome = parse_outcome(self.app.call_from_thread(self.document))
        self.post_message(VisitActed(self.app.session.report(self.visit_id, outcome)))

    @on(VisitActed)
    def _saved(self, message: VisitActed) -> None:
        self.dismiss_saying(f"Report on {message.result.record.id} recorded; its record is in the outbox.",
                            title="Report saved")
