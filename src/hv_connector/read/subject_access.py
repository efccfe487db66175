"""Everything the store holds about one pupil, for a subject-access request (UK GDPR Art. 15).

:func:`gather` reads it as plain JSON values: the MIS data (the pupil, contacts, medical needs, SEN,
alerts, attendance, the school's restrictions), every visit (never its code word) with its events and
decisions, the reports queued for CPOMS, the audit entries about them, and the access log. A person
decides what is withheld before anything is sent; the export prepares, it does not send.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Table, or_, select

from hv_connector.printing.document import Block, Document, Paragraph, Rows, Section
from hv_connector.read.briefing import NOT_KNOWN
from hv_connector.store import access
from hv_connector.store.audit import AuditEntry, entries
from hv_connector.store.schema import (
    acknowledgements,
    audit,
    outbox,
    overrides,
    pupil_alerts,
    pupil_attendance,
    pupil_contacts,
    pupil_medical,
    pupil_restrictions,
    pupil_sen,
    pupils,
    visit_events,
    visits,
)
from hv_connector.text import neutralise

HIDDEN = frozenset({"code_word", "timetable", "timetable_shared"})
"""Columns never exported: the code word (a safety secret, not data about the pupil) and the watch's caches."""

_MIS = (("contacts", pupil_contacts), ("medical", pupil_medical), ("sen", pupil_sen), ("alerts", pupil_alerts),
        ("attendance", pupil_attendance), ("restrictions", pupil_restrictions))
_UNKNOWN_WHEN_NULL = {"attendance": ("authorised", "unauthorised")}
"""Columns of a section whose null means "not known" (absences the MIS did not send): shown so, not left out."""
_ABOUT_VISIT = (("events", visit_events), ("acknowledgements", acknowledgements), ("overrides", overrides),
                ("reports", outbox))


def gather(conn: Connection, school_id: str, mis_id: str) -> dict[str, Any]:
    """What is held about the pupil ``mis_id`` of ``school_id``, section by section."""
    pupil = conn.execute(select(pupils).where(pupils.c.school_id == school_id, pupils.c.mis_id == mis_id)).mappings().one()
    held: dict[str, Any] = {"school": school_id, "pupil": _plain(pupil)}
    for name, table in _MIS:
        held[name] = _rows(conn, table, table.c.school_id == school_id, table.c.pupil_mis_id == mis_id)
    visit_rows = _rows(conn, visits, visits.c.school_id == school_id, visits.c.pupil_mis_id == mis_id)
    visit_ids = [row["id"] for row in visit_rows]
    for name, table in _ABOUT_VISIT:  # one query a table for all the pupil's visits
        by_visit: dict[str, list[dict[str, Any]]] = {visit_id: [] for visit_id in visit_ids}
        for about in _rows(conn, table, table.c.visit_id.in_(visit_ids)):
            by_visit[about["visit_id"]].append(about)
        for row in visit_rows:
            row[name] = by_visit[row["id"]]
    held["visits"] = visit_rows
    held["audit"] = [entry.as_json() for entry in _audit_entries(conn, school_id, mis_id, visit_ids)]
    held["access_log"] = [{**a.__dict__, "at": a.at.isoformat()} for a in access.for_pupil(conn, school_id, mis_id)]
    return held


def _audit_entries(conn: Connection, school_id: str, mis_id: str, visit_ids: list[str]) -> Iterator[AuditEntry]:
    about = or_(audit.c.visit_id.in_(visit_ids), (audit.c.school_id == school_id) & audit.c.action.like("pupil.%"))
    for entry in entries(conn, about):
        if entry.visit_id is not None or entry.detail.get("pupil") == mis_id:
            yield entry


def _rows(conn: Connection, table: Table, *where: Any) -> list[dict[str, Any]]:
    order = table.c.id if "id" in table.c else table.primary_key.columns.values()[-1]
    return [_plain(row) for row in conn.execute(select(table).where(*where).order_by(order)).mappings()]


def _plain(row: Any) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in HIDDEN}


def document(held: dict[str, Any]) -> Document:
    """``held`` as a document a person can read through (printed to PDF, or as text): one section per part."""
    pupil = held["pupil"]
    sections = [_section("Pupil (from the MIS)", [pupil])]
    sections += [_section(name.capitalize(), held[name], _UNKNOWN_WHEN_NULL.get(name, ())) for name, _ in _MIS]
    for visit in held["visits"]:
        sections.append(_section(f"Visit {visit['id']}", [{k: v for k, v in visit.items() if k not in dict(_ABOUT_VISIT)}]))
        sections += [_section(f"Visit {visit['id']}: {name}", visit[name]) for name, _ in _ABOUT_VISIT]
    sections.append(_section("Audit log entries", held["audit"]))
    sections.append(_section("Who was shown this record (access log)", held["access_log"]))
    return Document(title=f"Subject-access export: {pupil.get('display_name') or pupil['mis_id']}",
                    subtitle=f"{held['school']}, pupil {pupil['mis_id']}",
                    notice="Personal data. Prepared for a person to review: withhold what would likely cause serious "
                           "harm before sending.",
                    sections=sections)


def text_lines(doc: Document) -> Iterator[str]:
    """The document as plain text: the title, then each section under an underlined heading."""
    yield neutralise(doc.title)  # the pupil's name from the MIS, on the title's one line
    yield from (neutralise(line) for line in (doc.subtitle, doc.notice) if line)
    for section in doc.sections:
        yield from ("", section.heading, "=" * len(section.heading))
        for block in section.blocks:
            if isinstance(block, Rows):
                # What is held, as data: a note's line breaks and any control character show as escapes.
                yield from (f"  {key}: {neutralise(value)}" for key, value in block.rows)
                yield ""
            elif isinstance(block, Paragraph):
                yield block.text


def _section(title: str, rows: list[dict[str, Any]], unknown: tuple[str, ...] = ()) -> Section:
    blocks: list[Block] = [Rows(rows=[(key, NOT_KNOWN if value is None and key in unknown else str(value))
                                      for key, value in row.items()
                                      if value not in (None, "", [], {}) or key in unknown])
                           for row in rows]
    return Section(heading=title, blocks=blocks or [Paragraph(text="(none held)")])
