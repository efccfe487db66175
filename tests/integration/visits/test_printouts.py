"""``hvc visit pack`` and ``hvc visit export``: PDFs read back as text, the owner's alone, audited, never the code word."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from visitkit import REVIEW_WARNING, potton_request  # type: ignore[import-not-found]

from tests.pdfkit import pdf_pages, pdf_text

CODE_WORD = "bluebell"
"""potton_request()'s code word."""


def _authorised(hvc, tmp_path: Path, **fields: object) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request(**fields)), encoding="utf-8")
    code, out, err = hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")
    assert code == 0, err
    visit_id: str = json.loads(out)["visit"]["id"]
    code, _, err = hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", REVIEW_WARNING)
    assert code == 0, err
    return visit_id


def test_the_briefing_pack_holds_what_staff_need_and_never_the_code_word(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    visit_id = _authorised(hvc, tmp_path)
    out = tmp_path / "packs" / "pack.pdf"
    code, printed, err = hvc("visit", "pack", visit_id, "--as", "pt-v1", "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(printed) == {"visit": visit_id, "file": str(out), "pages": json.loads(printed)["pages"]}
    pdf = out.read_bytes()
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 3
    for page in pages:
        assert "PERSONAL DATA" in page and "destroy it (shred) after the visit" in page
    text = pdf_text(pdf)
    for expected in ("Briefing pack: visit " + visit_id, "Test Pupil", "1 Example Road, Potton",  # the pupil
                     "Alex Visitor (07700 900105)", "Sam Second (07700 900106)",  # who goes, and their numbers
                     "blue Ford Fiesta AB12 CDE",  # the vehicle
                     "Authorised by", "Jo Watts-Test",
                     "Contacts (parental responsibility first)", "Earlier visits at this address",
                     "Attendance", "Risk assessment", "Check-in plan", "escalation chain",
                     "Ola Office (07700 900104)",  # the office's number
                     "The code word is not printed"):
        assert expected in text, expected
    assert CODE_WORD not in text.lower() and CODE_WORD.encode() not in pdf
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700


def test_printing_the_pack_is_audited_and_a_requested_visit_has_none(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    _, out, _ = hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")
    visit_id = json.loads(out)["visit"]["id"]
    code, _, err = hvc("visit", "pack", visit_id, "--as", "pt-v1")
    assert code == 1 and "a briefing pack is printed once it is authorised" in err
    code, _, err = hvc("visit", "pack", visit_id, "--as", "bw-dsl")
    assert code == 2 and "not in potton's staff directory" in err

    hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", REVIEW_WARNING)
    code, printed, _ = hvc("visit", "pack", visit_id, "--as", "pt-v1")
    assert code == 0 and "It holds personal data" in printed
    written = Path(printed.split(" to ", 1)[1].split("\n", 1)[0])
    assert written.name == f"visit-{visit_id}-pack.pdf" and stat.S_IMODE(written.stat().st_mode) == 0o600
    code, out, _ = hvc("audit", "show", visit_id, "--json")
    printed_entries = [e for e in json.loads(out) if e["action"] == "visit.pack-printed"]
    assert [(e["actor"], e["detail"]["file"]) for e in printed_entries] == [("pt-v1", str(written))]


def test_a_finished_visit_exports_its_record(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    visit_id = _authorised(hvc, tmp_path)
    code, _, err = hvc("visit", "export", visit_id, "--as", "pt-dsl")
    assert code == 1 and "its record is made when it is reported" in err
    for args in (("sign-out",), ("return",)):
        assert hvc("visit", args[0], visit_id, "--as", "pt-v1")[0] == 0
    code, _, err = hvc("visit", "report", visit_id, "--as", "pt-v1", "--child-seen", "--spoken-to",
                       "--discussion", "Attendance plan agreed with 李 family 👍.", "--action", "Call mum on Friday.")
    assert code == 0, err

    out = tmp_path / "record.pdf"
    code, _, err = hvc("visit", "export", visit_id, "--as", "pt-dsl", "--out", str(out))
    assert code == 0, err
    text = pdf_text(out.read_bytes())
    for expected in (f"Visit {visit_id}, revision 1", "Test Pupil", "UA1000000001", "Alex Visitor",
                     "Attendance plan agreed with [U+674E] family [U+1F44D].", "Call mum on Friday.",
                     "Visit authorised", "child seen and spoken to"):
        assert expected in text, expected
    assert CODE_WORD not in text.lower()
    first = out.read_bytes()
    hvc("visit", "export", visit_id, "--as", "pt-dsl", "--out", str(out))
    assert out.read_bytes() == first  # the same record prints to the same bytes
    code, listed, _ = hvc("audit", "show", visit_id, "--json")
    assert [e["actor"] for e in json.loads(listed) if e["action"] == "visit.record-exported"] == ["pt-dsl", "pt-dsl"]
