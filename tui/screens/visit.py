"""One visit: findings grouped by stage with their clauses, the pupil briefing, the risk assessment,
the audit trail; and the decisions an authoriser takes on it."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from hv_connector import humanize
from hv_connector.models import Finding, Stage
from hv_connector.read.attendance import figure_lines
from hv_connector.read.briefing import flag, not_from_mis
from hv_connector.read.findings import NO_FINDINGS, findings_by_stage
from hv_connector.visits.lifecycle import State
from hv_connector.visits.printouts import NOT_PACKED, RECORDED, Printout
from hv_connector.visits.records import ActionResult, Standing
from hvc_tui.dialogs.decision import DecisionDialog
from hvc_tui.dialogs.override import Override, OverrideDialog
from hvc_tui.messages import DetailLoaded, Printed
from hvc_tui.screens.base import VisitDetailScreen, back_key, keys, reload_key
from hvc_tui.screens.lifecycle import LifecycleScreen
from hvc_tui.session import VisitDetail
from hvc_tui.widgets import cells
from hvc_tui.widgets.footer import Footer


def summary_text(detail: VisitDetail) -> Text:
    visit = detail.record.visit
    staff = ", ".join(m.name for m in visit.staff) or "—"
    text = Text()
    text.append(f"{detail.record.id}  ", style="bold")
    text.append_text(cells.state(detail.record.state.value))
    text.append(f"  {detail.record.school}\n")
    for label, value in (("Pupil", visit.pupil.name), ("Address", visit.address or "—"), ("Reason", visit.reason),
                         ("Purpose", visit.purpose or "—"), ("Staff", staff),
                         ("Starts", humanize.moment(visit.planned_start)), ("Back by", humanize.moment(visit.expected_return)),
                         ("Asked by", visit.requested_by.name if visit.requested_by else "—"),
                         ("Authorisers", " or ".join(detail.authoriser_roles) or "—")):
        text.append(f"{label:>12}: ", style="dim")
        text.append(f"{cells.plain(value)}\n")
    return text


def findings_text(detail: VisitDetail) -> Text:
    standing = detail.standing
    text = Text()
    if not detail.findings:
        text.append(f"{NO_FINDINGS}\n")
    for group in findings_by_stage(detail.findings, overrides=standing.overrides if standing else (),
                                   acknowledgements=standing.acknowledgements if standing else (),
                                   names=detail.names):
        text.append(f"{group.stage.value}\n", style="bold underline")
        for line in group.lines:
            finding = line.finding
            text.append("  ")
            text.append_text(cells.severity(finding.severity.value))
            text.append(f" {finding.rule_id}", style="bold")
            text.append(f" — {cells.plain(finding.message)}\n")
            text.append(f"      {cells.plain(finding.clause)}\n", style="italic dim")
            if line.decision:
                text.append(f"      ✔ {cells.plain(line.decision)}\n", style="green")
    return text


def briefing_text(detail: VisitDetail) -> Text:
    brief = detail.briefing
    text = Text()
    if brief is None:
        text.append("No MIS briefing: the pupil is not in the synced data (a new family, or left).\n", style="yellow")
        return text
    text.append(cells.plain(brief.display_name), style="bold")
    text.append(cells.plain(f"  UPN {brief.upn or '—'}  MIS id {brief.native_id or '—'}  year {brief.year_group or '—'}  "
                            f"DOB {brief.date_of_birth or '—'}") + "\n")
    text.append(f"  {cells.plain(brief.address_text or brief.missing('address', '—'))}\n")
    text.append(f"  MIS data synced {humanize.moment(brief.synced_at)}\n", style="dim")
    if brief.restrictions:
        text.append("The school's restrictions\n", style="bold underline")
        for r in brief.restrictions:
            text.append(cells.plain(f"  ⛔ {r.kind}{' — ' + r.person if r.person else ''}: "), style="bold red")
            text.append(f"{cells.plain(r.text)}\n")
    text.append("Contacts\n", style="bold underline")
    if not brief.contacts:
        text.append(f"  {brief.missing('contacts', 'none in the MIS')}\n")
    for contact in brief.contacts:
        flags = [flag(contact.parental_responsibility, "parental responsibility", "no parental responsibility"),
                 flag(contact.lives_with_pupil, "lives with pupil", "lives elsewhere")]
        style = "bold red" if contact.no_contact or contact.court_order else ""
        text.append("  ⛔ NO CONTACT " if contact.no_contact else "  ", style=style)
        text.append(cells.plain(f"{contact.name} ({contact.relationship or '—'})"), style=style)
        text.append(cells.plain(f"  {', '.join(flags)}  {' '.join(contact.phones) or 'no phone'}") + "\n")
    text.append("Alerts and orders\n", style="bold underline")
    for alert in brief.alerts:
        text.append(f"  ▲ {cells.plain(alert.kind)}: ", style="bold yellow")
        text.append(f"{cells.plain(alert.text)}\n")
    if not brief.alerts:
        text.append(f"  from the MIS: {brief.missing('alerts', 'none')}\n")
    text.append(f"  {not_from_mis()}\n", style="yellow")
    for section, heading, rows in (
            ("medical", "Medical", [f"{m.kind}: {m.description}" for m in brief.medical]),
            ("sen", "SEN", [f"{s.need}" + (f" — {s.provision}" if s.provision else "") for s in brief.sen])):
        text.append(f"{heading}\n", style="bold underline")
        for row in rows or [brief.missing(section, "none recorded")]:
            text.append(f"  {cells.plain(row)}\n")
        warning = brief.incomplete(section) if rows else None
        if warning:
            text.append(f"  ({warning})\n", style="yellow")
    text.append("Attendance\n", style="bold underline")
    for label, att in (("MIS summary", brief.attendance_summary),):
        text.append(f"  {label}: " + (f"{att.percentage}% ({att.absences()})\n"
                                      if att and att.percentage is not None
                                      else f"{brief.missing('attendance', '—')}\n"))
    text.append("Attendance from the register\n", style="bold underline")
    for line, warn in figure_lines(brief.attendance):
        text.append(f"  {line}\n", style="bold yellow" if warn else "")
    text.append("Earlier visits at this address\n", style="bold underline")
    earlier = [v for v in brief.earlier_visits if v.visit_id != detail.record.id]
    if not earlier:
        text.append("  none\n")
    for visit in earlier:
        text.append(f"  {humanize.moment(visit.planned_start)}  {visit.state}  ", style="bold red" if visit.concern else "")
        text.append(f"{cells.plain(visit.outcome)}\n", style="bold red" if visit.concern else "")
    return text


def risk_text(detail: VisitDetail) -> Text:
    risk = detail.record.visit.risk_assessment
    text = Text()
    if risk is None:
        text.append("No risk assessment recorded.\n", style="yellow")
        return text
    for hazard in risk.hazards:
        text.append(f"  [{hazard.rating or '-'}] ", style={"H": "bold red", "M": "yellow"}.get(hazard.rating or "", ""))
        text.append(cells.plain(hazard.hazard))
        text.append(f" — {cells.plain('; '.join(hazard.controls)) or 'no controls'}\n", style="dim")
    text.append(f"  Covers: {cells.plain(', '.join(risk.covers)) or '—'}\n")
    text.append(f"  Code word agreed: {'yes' if risk.code_word_agreed else 'no'}   "
                f"Lone working assessed: {'yes' if risk.lone_working else 'no'}\n")
    if risk.completed_by:
        text.append(f"  Completed by {cells.plain(risk.completed_by.name)}\n")
    return text


def trail_text(detail: VisitDetail) -> Text:
    text = Text()
    for entry in detail.trail:
        who = entry.detail.get("by_name") or humanize.person(entry.actor, detail.names)
        text.append(f"  {entry.seq:>5} {humanize.moment(entry.at)}  ", style="dim")
        text.append(cells.plain(entry.action), style="bold")
        text.append(f"  {cells.plain(who)}  → {cells.plain(entry.state or '—')}\n")
    return text


class VisitScreen(LifecycleScreen, VisitDetailScreen):
    """A visit's detail and the decisions its state allows (the footer shows only those)."""

    CSS_PATH = "visit.tcss"
    TITLE = "Visit"
    BINDINGS = [
        back_key("visit", "Back to the list"),
        *keys("visit",
              ("a", "authorise", "Authorise",
               "Authorise, acknowledging the warnings ticked (the policy's authorisers only)"),
              ("d", "decline", "Decline", "Decline the visit, with a reason"),
              ("v", "override", "Override",
               "Override standing blocks, each with its own tick and reason (authorisers only)"),
              ("k", "acknowledge", "Acknowledge", "Acknowledge standing warnings without authorising yet"),
              ("p", "pack", "Pack", "Print the briefing pack to a PDF only you can read (audited; never the code word)"),
              ("x", "export", "Export", "Export the finished visit's record to a PDF only you can read (audited)")),
        reload_key("visit", "Read the visit again"),
    ]
    detail: VisitDetail | None = None
    """The visit as last read."""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Static("Loading…", id="summary", classes="section")
            yield Static(id="findings", classes="section")
            yield Static(id="briefing", classes="section")
            yield Static(id="risk", classes="section")
            yield Static(id="trail", classes="section")
        yield Footer()

    def on_mount(self) -> None:  # then VisitDetailScreen's: Textual calls each class's handler
        for section, title in (("findings", "Findings by stage"), ("briefing", "Pupil briefing"),
                               ("risk", "Risk assessment"), ("trail", "Audit trail")):
            self.query_one(f"#{section}", Static).border_title = title

    @on(DetailLoaded)
    def _show(self, message: DetailLoaded) -> None:
        self.detail = detail = message.detail
        for section, render in (("summary", summary_text), ("findings", findings_text),
                                ("briefing", briefing_text), ("risk", risk_text), ("trail", trail_text)):
            text = render(detail)
            text.rstrip()
            self.query_one(f"#{section}", Static).update(text)
        self.refresh_bindings()  # the footer offers what the visit's state allows

    def visit_target(self) -> tuple[str, State] | None:
        return (self.visit_id, self.detail.record.state) if self.detail else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The pack while the visit may be gone on, the record once it has one; the lifecycle's keys by state."""
        if action in ("pack", "export"):
            target = self.visit_target()
            if target is None:
                return False
            return target[1] not in NOT_PACKED if action == "pack" else target[1] in RECORDED
        return super().check_action(action, parameters)

    # --- decisions ------------------------------------------------------------------------------

    def action_authorise(self) -> None:
        session, standing = self.app.session, self._standing()
        now = standing.blocks(Stage.AUTHORISE) if standing else []
        later = [f for f in standing.blocks() if f not in now] if standing else []
        self.ask(DecisionDialog(f"Authorise visit {self.visit_id}", warnings=self._standing_warnings(),
                                 every_warning=True, blocks=now, later_blocks=later, prompt="Note",
                                 required=False, confirm="Authorise"),
                  lambda d: lambda: session.authorise(self.visit_id, ack=d.rule_ids, note=d.text))

    def action_decline(self) -> None:
        session = self.app.session
        self.ask(DecisionDialog(f"Decline visit {self.visit_id}", confirm="Decline"),
                  lambda d: lambda: session.decline(self.visit_id, d.text))

    def action_override(self) -> None:
        session, standing = self.app.session, self._standing()
        blocks = standing.blocks() if standing else []
        if not blocks:
            self.notify("No standing blocks to override on this visit.", severity="warning")
            return

        def chosen(overrides: tuple[Override, ...] | None) -> None:
            if not overrides:
                return

            def run() -> ActionResult:
                # Each override is its own audited act with its own reason, as `hvc visit override` records it.
                results = [session.override(self.visit_id, o.rule_id, o.reason) for o in overrides]
                return results[-1]
            self.act(run)
        self.app.push_screen(OverrideDialog(f"Override blocks on visit {self.visit_id}", blocks=blocks), chosen)

    def action_acknowledge(self) -> None:
        session, warnings = self.app.session, self._standing_warnings()
        if not warnings:
            self.notify("No warnings wait for acknowledgement on this visit.", severity="warning")
            return
        self.ask(DecisionDialog(f"Acknowledge warnings on visit {self.visit_id}", warnings=warnings, prompt="Note",
                                 required=False, confirm="Acknowledge"),
                  lambda d: lambda: session.acknowledge(self.visit_id, d.rule_ids, d.text))

    def action_reload(self) -> None:
        self.load()

    # --- printing -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="visit-print", exit_on_error=False)
    def print_pdf(self, what: str, call: Callable[[], Printout]) -> None:
        """Render and write one PDF off the UI thread; the path comes back as a message."""
        self.post_message(Printed(call(), what))

    @on(Printed)
    def _printed(self, message: Printed) -> None:
        printout = message.printout
        # The path is shown as text: a folder name could hold [markup].
        self.notify(f"The {message.what} of visit {printout.visit_id} ({printout.size}) is in "
                    f"{printout.path}. It holds personal data.", title="Printed", markup=False, timeout=15)

    def action_pack(self) -> None:
        session = self.app.session
        self.print_pdf("briefing pack", lambda: session.pack(self.visit_id))

    def action_export(self) -> None:
        session = self.app.session
        self.print_pdf("record", lambda: session.export(self.visit_id))

    def _standing(self) -> Standing | None:
        return self.detail.standing if self.detail else None

    def _standing_warnings(self) -> list[Finding]:
        standing = self._standing()
        return standing.unacknowledged() if standing else []
