"""Ask for a visit with a form: the school's reasons, the pupil found by name, staff from the directory,
the times and the risk assessment from the policy's own template, and every further detail the schools'
rules read in collapsible sections; the request-stage findings update as the fields change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from hv_connector.errors import HvcError
from hv_connector.models import Finding
from hv_connector.read import queries
from hvc_tui.forms import parse_time, show_time
from hvc_tui.messages import ChoicesLoaded, FindingsPreviewed, PupilsFound, VisitActed
from hvc_tui.screens.base import HvcScreen, keys, leave_key
from hvc_tui.session import FormChoices
from hvc_tui.widgets import cells
from hvc_tui.widgets.footer import Footer
from hvc_tui.widgets.visit_details import VisitDetails

FLAGS = (("parents_informed", "Parents informed"), ("parent_agreement", "Parents agreed"),
         ("line_manager_informed", "Line manager informed"), ("logged_with_office", "Logged with the office"),
         ("phones_given_to_office", "Phones given to the office"), ("safeguarding", "Safeguarding concern"),
         ("emergency", "Emergency"))


def findings_text(findings: list[Finding], problem: str | None) -> Text:
    """The request-stage findings, worst first, or what stops them being checked."""
    text = Text()
    if problem:
        text.append(f"Not checked yet: {problem}\n", style="yellow")
        return text
    if not findings:
        text.append("✔ No findings at the request stage.\n", style="green")
    order = {"block": 0, "warn": 1, "info": 2}
    for finding in sorted(findings, key=lambda f: order[f.severity.value]):
        text.append_text(cells.severity(finding.severity.value))
        text.append(f" {finding.rule_id}", style="bold")
        text.append(f" — {finding.message} ")
        text.append(f"({finding.clause})\n", style="dim italic")
    return text


class RequestScreen(HvcScreen):
    """The request form; what is typed stays if saving is refused."""

    CSS_PATH = "request.tcss"
    TITLE = "Request a visit"
    AUTO_FOCUS = "#pupil-search"
    BINDINGS = [
        *keys("request", ("ctrl+s", "save", "Send request", "Ask for the visit: it goes to the authorisers' pending list")),
        leave_key("request", "Leave the form (nothing is sent; asks first when something is typed)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.choices: FormChoices | None = None
        self.hits: list[queries.PupilHit] = []
        self.pupil: queries.PupilHit | None = None

    def compose(self) -> ComposeResult:
        session = self.app.session
        yield Header()
        with Horizontal(id="columns"):
            with VerticalScroll(id="form"):
                yield Label("School", classes="heading")
                yield Select([(Text(s), s) for s in session.schools], value=session.schools[0]
                             if session.school_id not in session.schools else session.school_id,
                             allow_blank=False, id="school", compact=True)
                yield Label("Reason", classes="heading")
                yield Select([], id="reason", prompt="Choose the school's reason", compact=True)
                yield Label("Pupil: type part of the name", classes="heading")
                yield Input(id="pupil-search", placeholder="e.g. Zoë or D'Arcy", compact=True)
                yield OptionList(id="pupil-hits")
                yield Label("No pupil chosen", id="pupil")
                yield Label("Purpose", classes="heading")
                yield Input(id="purpose", placeholder="What the visit is for", compact=True)
                yield Label("Starts / back by (YYYY-MM-DD HH:MM)", classes="heading")
                with Horizontal(classes="times"):
                    yield Input(id="planned_start", placeholder="Starts YYYY-MM-DD HH:MM", compact=True)
                    yield Input(id="expected_return", placeholder="Back by YYYY-MM-DD HH:MM", compact=True)
                yield Label("Visiting staff (from the directory)", classes="heading")
                yield SelectionList[str](id="staff")
                with Vertical(id="flags"):
                    for name, label in FLAGS:
                        yield Checkbox(label, id=name, compact=True)
                yield Label("Risk assessment (the school's template)", classes="heading")
                yield Vertical(id="hazards")
                yield Label("Topics covered", id="topics-label")
                yield SelectionList[str](id="topics")
                yield Checkbox("Lone working assessed", id="lone_working", compact=True)
                yield Input(id="code_word", password=True, placeholder="Code word agreed with the office", compact=True)
                yield Label("More details (open a section with Enter)", classes="heading")
                yield VisitDetails(id="details")
                yield Button("Send request", id="save", variant="primary")
            with VerticalScroll(id="side"):
                yield Static("Request-stage findings", classes="heading")
                yield Static(Text("Choose a pupil to check the request."), id="findings")
        yield Footer()

    def on_mount(self) -> None:
        now = self.app.session.now
        start = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        self.query_one("#planned_start", Input).value = show_time(start)
        self.query_one("#expected_return", Input).value = show_time(start + timedelta(hours=1))
        self.load_choices(self.query_one("#school", Select).value)

    # --- loading what the school offers -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="request-choices", exit_on_error=False)
    def load_choices(self, school_id: str) -> None:
        self.post_message(ChoicesLoaded(self.app.session.form_choices(school_id)))

    @on(ChoicesLoaded)
    async def _choices(self, message: ChoicesLoaded) -> None:
        choices = message.choices
        self.query_one("#reason", Select).set_options([(Text(r.label), r.code) for r in choices.reasons])
        staff = self.query_one("#staff", SelectionList)
        staff.clear_options()
        staff.add_options([Selection(Text(f"{m.name} ({', '.join(m.roles)})"), m.id) for m in choices.staff])
        topics = self.query_one("#topics", SelectionList)
        topics.clear_options()
        topics.add_options([Selection(Text(t), t) for t in choices.template.topics])
        topics.display = self.query_one("#topics-label").display = bool(choices.template.topics)
        hazards = self.query_one("#hazards", Vertical)
        await hazards.remove_children()
        await hazards.mount_all(Horizontal(
                Label(Text(hazard.hazard), classes="hazard"),
                Select([("Low", "L"), ("Medium", "M"), ("High", "H")], value=hazard.default_rating or Select.NULL,
                       prompt="Rating", id=f"rating-{index}", classes="rating", compact=True),
                Input("; ".join(hazard.controls), id=f"controls-{index}", placeholder="Controls; separated; by ;",
                      compact=True),
                classes="hazard-row") for index, hazard in enumerate(choices.template.hazards))
        self.query_one(VisitDetails).set_staff(choices.staff, self.app.session.member.id)
        self.choices = choices
        self.query_one("#code_word", Input).display = choices.template.requires_code_word
        self.mark_untouched()  # the school's template, filled in for the person, is not typed by them
        self.preview()

    @on(Select.Changed, "#school")
    def _school(self, event: Select.Changed) -> None:
        self.pupil = None
        self.query_one("#pupil", Label).update("No pupil chosen")
        self.load_choices(event.value)

    # --- finding the pupil ---------------------------------------------------------------------------

    @on(Input.Changed, "#pupil-search")
    def _search(self, event: Input.Changed) -> None:
        self.find_pupils(self.query_one("#school", Select).value, event.value)

    @work(thread=True, exclusive=True, group="request-pupils", exit_on_error=False)
    def find_pupils(self, school_id: str, text: str) -> None:
        self.post_message(PupilsFound(self.app.session.find_pupils(school_id, text), text))

    @on(PupilsFound)
    def _found(self, message: PupilsFound) -> None:
        self.hits = message.hits
        options = self.query_one("#pupil-hits", OptionList)
        options.clear_options()
        options.add_options([Option(Text(cells.plain(f"{h.name}  ({h.year_group or '—'})  {h.address or ''}")), id=h.mis_id)
                             for h in message.hits])

    @on(OptionList.OptionSelected, "#pupil-hits")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.pupil = next(h for h in self.hits if h.mis_id == event.option.id)
        self.query_one("#pupil", Label).update(Text(cells.plain(f"Pupil: {self.pupil.name} — {self.pupil.address or 'no address'}")))
        self.preview()

    # --- live findings -----------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self, event: Any) -> None:
        if getattr(event.control, "id", None) not in ("pupil-search", "school"):
            self.preview()

    def preview(self) -> None:
        """Check the form as it stands (in a worker; the newest change wins)."""
        try:
            document = self.document()
        except HvcError as exc:
            self.query_one("#findings", Static).update(findings_text([], str(exc)))
            return
        self.check(document, self.pupil)

    @work(thread=True, exclusive=True, group="request-preview", exit_on_error=False)
    def check(self, document: dict[str, Any], pupil: queries.PupilHit | None) -> None:
        self.post_message(FindingsPreviewed(self.app.session.preview(document, pupil)))

    @on(FindingsPreviewed)
    def _previewed(self, message: FindingsPreviewed) -> None:
        self.query_one("#findings", Static).update(findings_text(message.preview.findings, message.preview.problem))

    # --- the document and saving ---------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The request as typed; :class:`InputError` names a time that cannot be read."""
        session = self.app.session
        today = session.today
        reason = self.query_one("#reason", Select).value
        hazards = []
        for index, template in enumerate(self.choices.template.hazards if self.choices else ()):
            rating = self.query_one(f"#rating-{index}", Select).value
            controls = [c.strip() for c in self.query_one(f"#controls-{index}", Input).value.split(";") if c.strip()]
            hazards.append({"hazard": template.hazard, "controls": controls,
                            "rating": None if rating is Select.NULL else rating})
        code_word = self.query_one("#code_word", Input).value.strip()
        details, risk = self.query_one(VisitDetails).document()
        return {
            "school": self.query_one("#school", Select).value,
            "reason": None if reason is Select.NULL else reason,
            "pupil": self.pupil.mis_id if self.pupil else None,
            "purpose": self.query_one("#purpose", Input).value.strip(),
            "planned_start": parse_time(self.query_one("#planned_start", Input).value, "planned_start", today),
            "expected_return": parse_time(self.query_one("#expected_return", Input).value, "expected_return", today),
            "staff": list(self.query_one("#staff", SelectionList).selected),
            **{name: self.query_one(f"#{name}", Checkbox).value for name, _ in FLAGS},
            **details,
            "risk_assessment": {
                "hazards": hazards, "covers": list(self.query_one("#topics", SelectionList).selected),
                "lone_working": self.query_one("#lone_working", Checkbox).value,
                "code_word": code_word or None, **risk,
            },
        }

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.send()

    @work(thread=True, exclusive=True, group="request-save", exit_on_error=False)
    def send(self) -> None:
        document = self.app.call_from_thread(self.document)
        session = self.app.session
        result = session.request(document)
        self.post_message(VisitActed(result, tuple(session.already_out(result.record.id))))

    @on(VisitActed)
    def _sent(self, message: VisitActed) -> None:
        result = message.result
        said = " ".join([f"Visit {result.record.id} requested for {result.record.visit.pupil.name}: "
                         f"{len(result.findings)} finding(s) for the authorisers.", *(f"⚠ {line}" for line in message.busy)])
        self.dismiss_saying(said, title="Request sent", severity="warning" if message.busy else "information")
