"""The schools, their staff and the pupils' background, as the sync fills them."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text

from hv_connector.store.tables import metadata, school_id_column
from hv_connector.store.types import Json, UTCDateTime

schools = Table(
    "schools",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("policy", String, nullable=False),
    Column("mis_school_id", String),
    Column("updated_at", UTCDateTime),
)

staff = Table(
    "staff",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("roles", Json, nullable=False, default=list),
    Column("mobile", String),
    Column("email", String),
    Column("dbs", String),
    Column("dbs_checked_on", Date),
    Column("cp_trained_on", Date),
    Column("home_visit_trained", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
)

pupils = Table(
    "pupils",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("mis_id", String, primary_key=True),
    Column("upn", String),
    Column("source_id", String),
    Column("native_id", String),
    Column("upi", String),
    Column("gaps", Json),
    Column("forename", String),
    Column("surname", String),
    Column("display_name", String),
    Column("date_of_birth", Date),
    Column("year_group", String),
    Column("address", Json),
    Column("address_text", String),
    Column("phones", Json),
    Column("mis_updated_at", UTCDateTime),
    Column("synced_at", UTCDateTime),
    Column("archived_at", UTCDateTime),
    Index(None, "school_id", "surname"),
    Index(None, "school_id", "address_text"),
    Index(None, "school_id", "source_id"),
    Index(None, "school_id", "upn"),
    Index(None, "school_id", "upi"),
)
"""``mis_id`` is our key for the pupil (visits point at it): the feed's record id when the pupil was first
synced, and never changed. ``source_id`` is the feed's record id now (Wonde's ``A…`` id, new when a school
changes MIS; the pupil is then re-linked by UPI or UPN, revision 0005), ``native_id`` the MIS's own id,
``upi`` Wonde's person id and ``upn`` the DfE number. ``gaps`` says which sections were withheld or
unreadable (:data:`hv_connector.sync.records.Gap`)."""

pupil_contacts = Table(
    "pupil_contacts",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("contact_mis_id", String, primary_key=True),
    Column("name", String),
    Column("relationship", String),
    Column("parental_responsibility", Boolean),
    Column("priority", Integer),
    Column("lives_with_pupil", Boolean),
    Column("no_contact", Boolean),
    Column("court_order", Boolean),
    Column("phones", Json),
    Column("email", String),
    Column("address_text", String),
)

def _pupil_detail(name: str, label: str, text: str) -> Table:
    """A list of one kind of background per pupil (medical needs, SEN, alerts): a short label and its text."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        school_id_column(),
        Column("pupil_mis_id", String, nullable=False),
        Column(label, String),
        Column(text, Text),
        Index(None, "school_id", "pupil_mis_id"),
    )


pupil_medical = _pupil_detail("pupil_medical", "kind", "description")
pupil_sen = _pupil_detail("pupil_sen", "need", "provision")
pupil_alerts = _pupil_detail("pupil_alerts", "kind", "text")
"""Court orders, no-contact orders and other alerts."""

pupil_restrictions = Table(
    "pupil_restrictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    school_id_column(),
    Column("pupil_mis_id", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("person", String),
    Column("text", Text, nullable=False),
    Column("added_by", String, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("removed_by", String),
    Column("removed_at", UTCDateTime),
    Index(None, "school_id", "pupil_mis_id"),
)
"""The school's own restrictions on a pupil (no-contact orders, court-order terms), which no MIS feed
carries: entered by the DSL team (``hvc pupil restrict``), audited, never touched by sync. Removing one
sets ``removed_at``; the row stays."""

pupil_attendance = Table(
    "pupil_attendance",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("period", String, primary_key=True),
    Column("possible", Integer, nullable=False, default=0),
    Column("attended", Integer, nullable=False, default=0),
    Column("authorised", Integer),
    Column("unauthorised", Integer),
)
"""A pupil's attendance over a period; ``authorised`` and ``unauthorised`` are null when the MIS did not send
them (not known, never read as none)."""

pupil_session_marks = Table(
    "pupil_session_marks",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("session", String(2), primary_key=True),
    Column("code", String, nullable=False),
    Column("meaning", String, nullable=False),
    Index(None, "school_id", "day"),
)
"""One row per AM/PM register mark (revision 0007): the code as the register shows it and its statistical
meaning (:class:`hv_connector.attendance.codes.Meaning`), read when the mark was synced. The sync replaces a
school's marks over a range of days at a time, so a mark corrected in the MIS is corrected here."""
