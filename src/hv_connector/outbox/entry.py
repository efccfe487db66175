"""A record as a person enters it in CPOMS by hand: the fields CPOMS asks for, then the whole record, uncut.

The manual sink writes this paste block beside the record's PDF
(:func:`hv_connector.outbox.printed.record_document`), and ``hvc outbox show``
prints it (for a record already in CPOMS's tray, the record as CPOMS holds it
instead). Like the report it is built from, it never holds the code word.
"""

from __future__ import annotations

from hv_connector import humanize
from hv_connector.outbox.report import NOT_RECORDED, Identified, VisitReport, pupil_identified, render
from hv_connector.text import neutralise

PERSONAL_DATA = ("Holds personal data about a child: keep it in the DSL team's folder, never e-mail it, "
                 "and delete it once the record is entered in CPOMS and confirmed.")
"""Printed at the head of every paste block and on every page of the PDF."""


def title(report: VisitReport) -> str:
    """What the record is, in a line: the heading of the paste block and of the PDF."""
    what = "SAFEGUARDING CONCERN — enter in CPOMS first" if report.kind == "concern" else "Home visit record"
    return f"{what}: {report.pupil_name}"


def entry_rows(report: VisitReport) -> list[tuple[str, str]]:
    """The fields CPOMS's "add incident" form asks for, in its order, each with what to put in it."""
    return [
        ("Category", " > ".join(report.categories)),
        ("Date it happened (UK time)", humanize.moment(report.occurred_at, missing=NOT_RECORDED)),
        ("Pupil", report.pupil_name),
        ("UPN", report.upn or NOT_RECORDED),
        ("MIS id", report.mis_id or NOT_RECORDED),
        ("Date of birth", humanize.day(report.date_of_birth, missing=NOT_RECORDED)),
        ("Alert", "the DSL team" if report.alert_dsl else "as the category sets"),
        ("Our reference", f"{report.record_id} (revision {report.revision})"),
    ]


def paste_block(report: VisitReport) -> str:
    """The record as plain text: the fields to fill in, then the whole record to paste as the incident's text."""
    width = max(len(label) for label, _ in entry_rows(report))
    lines = [title(report), PERSONAL_DATA, ""]
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in entry_rows(report)]
    lines += ["", "--- paste from here into the incident's text ---", render(report), "--- to here ---"]
    return "\n".join(lines) + "\n"


def as_held(report: VisitReport) -> str:
    """The record as the receiver holds it in its tray: its text, to tell the tray's incident by, and no fields to
    fill in (a paste block asks for it to be entered, and entering it would put it in CPOMS twice)."""
    return "\n".join(["--- the record as CPOMS holds it in its tray: attach it, do not enter it again ---",
                      render(report), "--- to here ---"]) + "\n"


def in_tray(incident: str | None, pupil: Identified | None) -> str:
    """Where a record the receiver left unmatched in its Incident Tray is, and what a person must do with it.

    The one wording for an ``in-tray`` record, wherever it is shown (the push's output and log, ``hvc outbox``,
    the dashboard): it is in CPOMS but on no pupil's chronology until someone attaches it. ``pupil`` ``None``
    leaves the pupil unnamed, for the push's output, which cron keeps in a log file anyone reading the logs can
    see; ``hvc outbox show`` and the dashboard, for the DSL team, name them.
    """
    whom = pupil_identified(pupil) if pupil is not None else "its pupil (`hvc outbox show` names them)"
    return f"in CPOMS's Incident Tray as incident {incident or '(number not given)'}: attach it to {whom}"


def attach_command(outbox_id: int, incident: str | None) -> str:
    """The command that marks record ``outbox_id`` attached from CPOMS's tray as ``incident`` (the receiver's text,
    neutralised), or with a placeholder where the receiver gave no number."""
    return f"hvc outbox confirm {outbox_id} --ref {neutralise(incident) if incident else 'INCIDENT_NO'} --as STAFF"
