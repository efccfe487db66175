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
)

pupil_contacts = Table(
    "pupil_contacts",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("contact_mis_id", String, primary_key=True),
    Column("name", String),
    Column("relationship", String),
    Column("parental_responsibility", Boolean, nullable=False, default=False),
    Column("priority", Integer),
    Column("lives_with_pupil", Boolean, nullable=False, default=False),
    Column("no_contact", Boolean, nullable=False, default=False),
    Column("court_order", Boolean, nullable=False, default=False),
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

pupil_attendance = Table(
    "pupil_attendance",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("pupil_mis_id", String, primary_key=True),
    Column("period", String, primary_key=True),
    Column("possible", Integer, nullable=False, default=0),
    Column("attended", Integer, nullable=False, default=0),
    Column("authorised", Integer, nullable=False, default=0),
    Column("unauthorised", Integer, nullable=False, default=0),
)
