"""Who read what: ``hvc pupil show``, ``hvc visit show`` and ``hvc outbox show`` leave an access entry, and
``hvc audit access --pupil ID`` lists them for the DSL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from visitkit import potton_request  # type: ignore[import-not-found]

from hv_connector.printing import Document, page_count
from hv_connector.read.subject_access import text_lines

Hvc = Callable[..., tuple[int, str, str]]


def test_the_dsl_sees_who_read_a_pupils_record(hvc: Hvc, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("audit", "access", "--pupil", "A1000000001")
    assert code == 0 and "Nobody has been shown pupil A1000000001" in out

    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    visit_id = json.loads(hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")[1])["visit"]["id"]
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50000 192.0.2.1 22")
    assert hvc("pupil", "show", "A1000000001")[0] == 0
    assert hvc("visit", "show", visit_id, "--as", "pt-head")[0] == 0
    assert hvc("pupil", "show", "B2000000001")[0] == 0  # another child: not in this one's log

    code, out, _ = hvc("audit", "access", "--pupil", "A1000000001", "--json")
    seen = json.loads(out)
    assert code == 0
    assert [(e["via"], e["kind"], e["record_id"]) for e in seen] == [
        ("hvc pupil show", "pupil", "A1000000001"), ("hvc visit show", "visit", visit_id)]
    assert seen[1]["actor"] == "pt-head" and seen[0]["actor"].startswith("os:")
    assert {e["origin"] for e in seen} == {"ssh from 192.0.2.7"}
    code, out, _ = hvc("audit", "access", "--pupil", "A1000000001")
    assert "pt-head" in out and f"visit {visit_id}" in out


def test_a_subject_access_export_holds_everything_about_the_pupil_and_is_audited(hvc: Hvc, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    visit_id = json.loads(hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")[1])["visit"]["id"]
    assert hvc("visit", "show", visit_id, "--as", "pt-head")[0] == 0

    code, out, _ = hvc("export", "pupil", "A1000000001", "--out", str(tmp_path / "sar"), "--as", "pt-dsl")
    assert code == 0
    held = json.loads((tmp_path / "sar" / "subject-access-potton-A1000000001.json").read_text())
    assert held["pupil"]["mis_id"] == "A1000000001" and [v["id"] for v in held["visits"]] == [visit_id]
    assert [e["action"] for e in held["audit"]] == ["visit.request"]
    assert [a["actor"] for a in held["access_log"]] == ["pt-head"]
    text = (tmp_path / "sar" / "subject-access-potton-A1000000001.txt").read_text()
    assert f"Visit {visit_id}" in text and "bluebell" not in text and "bluebell" not in json.dumps(held)
    pdf = (tmp_path / "sar" / "subject-access-potton-A1000000001.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and page_count(pdf) >= 2
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "sar").iterdir()} == {"0o600"}
    assert oct((tmp_path / "sar").stat().st_mode & 0o777) == "0o700"

    assert hvc("export", "pupil", "A1000000001", "--out", str(tmp_path / "sar"))[0] == 0  # again: the first is audited
    again = json.loads((tmp_path / "sar" / "subject-access-potton-A1000000001.json").read_text())
    assert [(e["action"], e["actor"]) for e in again["audit"]][-1] == ("pupil.export", "pt-dsl")
    exported = json.loads(hvc("audit", "access", "--pupil", "A1000000001", "--json")[1])
    assert [e["actor"] for e in exported if e["via"] == "hvc export pupil"][0] == "pt-dsl"


def test_each_visit_in_an_export_holds_its_own_events(hvc: Hvc, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    made = [json.loads(hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")[1])["visit"]["id"]
            for _ in range(2)]
    assert hvc("export", "pupil", "A1000000001", "--out", str(tmp_path / "sar"), "--as", "pt-dsl")[0] == 0
    held = json.loads((tmp_path / "sar" / "subject-access-potton-A1000000001.json").read_text())
    assert sorted(v["id"] for v in held["visits"]) == sorted(made)
    for visit in held["visits"]:
        assert [e["visit_id"] for e in visit["events"]] == [visit["id"]]

def test_the_text_export_keeps_a_name_with_a_line_break_on_the_title_line() -> None:
    doc = Document(title="Subject-access export: Jo Bloggs\nFORGED line", subtitle="potton, pupil A1", sections=[])
    lines = list(text_lines(doc))
    assert lines[0] == "Subject-access export: Jo Bloggs\\x0aFORGED line"
    assert not any(line.startswith("FORGED") for line in "\n".join(lines).splitlines())
