"""What any MIS adapter hands the sync is stored as data: control characters made visible, and a record with
a field past its length limit quarantined with the reason instead of stored."""

from __future__ import annotations

from datetime import UTC, datetime

from hv_connector.sync.records import AlertRecord, ContactRecord, MedicalRecord, PupilRecord, Rejected
from hv_connector.sync.store import PUPILS, page_rows

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_every_text_field_is_neutralised_as_the_record_is_built() -> None:
    record = PupilRecord(
        mis_id="A1\x1b", display_name="Eve Smith\x1b[2J\x1b[31m", surname="Smith\nForged", address={"line1": "1 Road\u202e"},
        phones=("07700\x1b[8m",), contacts=(ContactRecord(mis_id="C1", name="Mal\x9blory", relationship="Father\t"),),
        medical=(MedicalRecord(kind="note", description="Asthma\x1b]8;;https://evil.example/\x07"),),
        alerts=(AlertRecord(kind="court-order", text="Terms\x1b[8m hidden"),))
    assert record.mis_id == "A1\\x1b"
    assert record.display_name == "Eve Smith\\x1b[2J\\x1b[31m" and record.surname == "Smith\\x0aForged"
    assert record.address == {"line1": "1 Road\\u202e"} and record.phones == ("07700\\x1b[8m",)
    assert record.contacts[0].name == "Mal\\x9blory" and record.contacts[0].relationship == "Father\\x09"
    assert record.medical[0].description == "Asthma\\x1b]8;;https://evil.example/\\x07"
    assert record.alerts[0].text == "Terms\\x1b[8m hidden"


def test_a_pupil_with_an_overlong_field_is_quarantined_with_the_field_named() -> None:
    fine = PupilRecord(mis_id="A1", display_name="Ada Example")
    flooded = PupilRecord(mis_id="A2", display_name="Bo Example",
                          contacts=(ContactRecord(mis_id="C1", name="Dad", phones=("0" * 61,)),))
    huge_note = PupilRecord(mis_id="A3", display_name="Cy Example",
                            medical=(MedicalRecord(kind="note", description="x" * 20_000),))
    page = page_rows("potton", [fine, flooded, huge_note], NOW)
    assert [row["mis_id"] for row in page.pupils] == ["A1"]
    assert all(row["pupil_mis_id"] == "A1" for rows in page.children.values() for row in rows)
    assert [(r.resource, r.record_id) for r in page.rejected] == [(PUPILS, "A2"), (PUPILS, "A3")]
    assert page.rejected[0].reason.startswith("contacts[0].phones[0] is 61 characters long, over the limit of 60")
    assert page.rejected[1].reason.startswith("medical[0].description is 20,000 characters long, over the limit of 2,000")
    assert all(isinstance(r, Rejected) and "corrected in the MIS" in r.reason for r in page.rejected)
