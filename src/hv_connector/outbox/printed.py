"""A visit's record as a printable document: the same facts as the CPOMS record, laid out for ``document.typ``.

Built from :class:`~hv_connector.outbox.report.VisitReport` (never from the visit again), so the
PDF says exactly what the record says, and, like the record, never holds the code word.
"""

from __future__ import annotations

from collections.abc import Sequence

from hv_connector import humanize
from hv_connector.outbox.report import NOT_RECORDED, VisitReport, people_named, yes_no
from hv_connector.printing import Block, Document, Items, Paragraph, Rows, Section, Table

NOTICE = "PERSONAL DATA about a child: keep it where only the safeguarding team can read it."


def record_document(reports: Sequence[VisitReport]) -> Document:
    """The visit's record(s) — a concern first, then the routine record — as one document."""
    first = reports[0]
    return Document(title=f"Visit record: {first.pupil_name}",
                    subtitle=f"Visit {first.record_id.split('/')[0]}, revision {first.revision}, at {first.school}",
                    notice=NOTICE, sections=[_section(r) for r in reports])


def _section(r: VisitReport) -> Section:
    heading = "SAFEGUARDING CONCERN raised on a home visit" if r.kind == "concern" else f"Record: {r.kind}"
    rows = [
        ("Pupil", r.pupil_name), ("UPN", r.upn or NOT_RECORDED), ("MIS id", r.mis_id or NOT_RECORDED),
        ("Born", humanize.day(r.date_of_birth, missing=NOT_RECORDED)),
        ("Categories", ", ".join(r.categories)),
        ("When", f"{humanize.moment(r.occurred_at)} (UK time)"),
        ("Reason", r.reason), ("Type of visit", r.visit_type.replace("_", " ")),
        ("Who went", people_named(r.visitors)),
        ("Arrived", humanize.moment(r.arrived_at, missing=NOT_RECORDED)),
        ("Left", humanize.moment(r.departed_at, missing=NOT_RECORDED)),
        ("Child seen", f"{yes_no(r.child_seen)}; alone: {yes_no(r.child_seen_alone)}; "
                       f"spoken to: {yes_no(r.child_spoken_to)}"),
        ("Persons present", people_named(r.persons_present)),
    ]
    blocks: list[Block] = [Paragraph(text=r.summary, strong=True), Rows(rows=rows)]
    said = [(label, text.strip()) for label, text in (
        ("The child's own words", r.child_words), ("Home conditions", r.home_conditions), ("Discussed", r.discussion),
        ("Concerns", r.concerns or "none raised"), ("Safety at the door", r.safety), ("Incident", r.violence_or_abuse))
        if text.strip()]
    blocks.append(Rows(rows=said))
    if r.agreements:
        blocks += [Paragraph(text="Agreed:"), Items(items=list(r.agreements))]
    blocks.append(Table(columns=["Decision", "By", "When", "Reason"], rows=[
        [d.what, d.by or NOT_RECORDED, humanize.moment(d.at, missing=NOT_RECORDED), d.reason or "—"]
        for d in r.decisions]) if r.decisions else Paragraph(text="Decisions: none recorded"))
    blocks.append(Table(columns=["Action", "Who", "Due"], rows=[
        [a.text, ", ".join(a.who) or "—", humanize.day(a.due_on, missing="—")] for a in r.actions])
        if r.actions else Paragraph(text="Actions: none recorded"))
    if r.follow_up_on:
        blocks.append(Paragraph(text=f"Follow-up on: {humanize.day(r.follow_up_on)}"))
    blocks.append(Paragraph(text=f"Outcome: {r.outcome_text}", strong=True))
    return Section(heading=heading, blocks=blocks)
