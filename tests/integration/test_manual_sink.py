"""The manual sink, end to end on a real SQLite store: `hvc push` writes each record for the DSL team to enter in
CPOMS, privately; `hvc outbox show` prints the whole paste block; `hvc outbox confirm` makes it done (audited)."""

from __future__ import annotations

import stat
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from hv_connector.models import Visit
from hv_connector.outbox.queue import get_record
from hv_connector.read.history import history_lines
from hv_connector.store import Store, audit
from hv_connector.store.schema import outbox
from tests.cpomskit import demo_visit, hvc, kit_policies, queue
from tests.pdfkit import pdf_text

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
CODE_WORD = "bluebell"  # base_visit's risk assessment


@pytest.fixture
def store(sqlite_url: str) -> Store:
    with Store.open(sqlite_url) as opened:
        yield opened


@pytest.fixture
def records(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Birchwood on the manual sink (its folder under tmp_path), with a DSL and a teaching assistant."""
    folder = tmp_path / "records" / "birchwood"
    config = tmp_path / "hvc.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n\n[schools.birchwood]\nname = "Birchwood"\npolicy = "birchwood"\n'
                      f'[schools.birchwood.sink]\nname = "manual"\nfolder = "{folder}"\n\n'
                      '[[staff.birchwood]]\nid = "bw-dsl"\nname = "Dana Lead"\nroles = ["dsl"]\n\n'
                      '[[staff.birchwood]]\nid = "bw-ta"\nname = "Tom Assistant"\nroles = ["ta"]\n', encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv("HVC_CONFIG", str(config))
    return folder


def concern_visit(visit_id: str = "v-1", **outcome: object) -> Visit:
    visit = demo_visit(None, "birchwood", 0, visit_id=visit_id, cp_concern=True, concerns="Bruise on the left arm.",
                       **outcome)
    pupil = visit.pupil.model_copy(update={"date_of_birth": date(2016, 5, 4), "native_id": "MIS-4471"})
    return visit.model_copy(update={"pupil": pupil})


def test_push_writes_the_concern_first_as_a_private_paste_block_with_everything_cpoms_asks_for(
        store: Store, records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    concern, routine = queue(store, kit_policies("birchwood"), [concern_visit()], NOW, kind="concern")
    code, out, _err = hvc(capsys, "push")
    assert code == 0 and "written for entry 2" in out
    assert stat.S_IMODE(records.stat().st_mode) == 0o700
    files = sorted(records.iterdir())
    assert [f.name for f in files] == ["v-1-concern-r1.pdf", "v-1-concern-r1.txt", "v-1-r1.pdf", "v-1-r1.txt"]
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    printed = pdf_text((records / "v-1-concern-r1.pdf").read_bytes())
    for expected in ("SAFEGUARDING CONCERN", "Child Protection, Home Visit", "A123456789012", "MIS-4471",
                     "04 May 2016", "Alex Visitor", "Jo Authoriser", "Bruise on the left arm."):
        assert expected in printed
    assert CODE_WORD not in printed

    block = (records / "v-1-concern-r1.txt").read_text(encoding="utf-8")
    assert block.startswith("SAFEGUARDING CONCERN — enter in CPOMS first: Test Pupil\n")
    for expected in ("Category:", "Child Protection > Home Visit", "Date it happened (UK time):",
                     "UPN:", "A123456789012", "MIS id:", "MIS-4471", "Date of birth:", "04 May 2016",
                     "Who went: Alex Visitor (pastoral); Sam Second (dsl)", "Bruise on the left arm.",
                     "Visit authorised by Jo Authoriser", "Check attendance on Friday.", "Outcome: child seen"):
        assert expected in block
    assert CODE_WORD not in block and "s1" not in block.split("Who went")[1].split("\n")[0]
    with store.connect() as conn:
        assert [get_record(conn, i).status for i in (concern, routine)] == ["awaiting-entry"] * 2

    _code, listed, _err = hvc(capsys, "outbox", "list")
    assert f"hvc outbox confirm {concern} --ref N --as STAFF" in listed
    code, again, _err = hvc(capsys, "push")
    assert "written for entry 0" in again  # written once; it waits for the DSL team, not for another push


def test_outbox_show_prints_the_whole_paste_block_even_past_cpoms_limit(
        store: Store, records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_talk = "We talked about the morning routine. " * 800  # ~30,000 characters
    [outbox_id] = queue(store, kit_policies("birchwood"), [demo_visit(None, "birchwood", 0, visit_id="v-2",
                                                                      discussion=long_talk)], NOW)
    code, shown, _err = hvc(capsys, "outbox", "show", str(outbox_id))
    assert code == 0 and long_talk.strip() in shown and "Recorded by hv-connector from visit v-2" in shown
    with store.connect() as conn:
        description = get_record(conn, outbox_id).report.description
    # What an API sink gets is cut to its limit, and says so.
    assert len(description) <= 20000 and "[CUT: this record is" in description and "`hvc outbox show ID`" in description


def test_outbox_list_and_show_print_a_stored_reason_and_record_number_each_on_its_one_line(
        store: Store, records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [outbox_id] = queue(store, kit_policies("birchwood"), [demo_visit(None, "birchwood", 0, visit_id="v-3")], NOW)
    with store.begin() as conn:  # as an older version stored a receiver's words: a line break in them
        conn.execute(update(outbox).values(status="parked", last_error="no such pupil\nsent 3: done",
                                           cpoms_id="77\nsent 4", sent_at=NOW))
    _code, listed, _err = hvc(capsys, "outbox", "list")
    assert "no such pupil\\x0asent 3: done" in listed and "\nsent 3" not in listed
    _code, shown, _err = hvc(capsys, "outbox", "show", str(outbox_id))
    assert "Parked because: no such pupil\\x0asent 3: done" in shown and "77\\x0asent 4" in shown
    assert "\nsent" not in shown


def test_only_the_dsl_team_confirms_and_the_confirmation_is_audited_by_name(
        store: Store, records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [outbox_id] = queue(store, kit_policies("birchwood"), [demo_visit(None, "birchwood", 0, visit_id="v-3")], NOW)
    code, _out, err = hvc(capsys, "outbox", "confirm", str(outbox_id), "--ref", "10422", "--as", "bw-dsl")
    assert code == 1 and "is pending, not awaiting entry" in err  # nothing to confirm before it is written
    hvc(capsys, "push")
    code, _out, err = hvc(capsys, "outbox", "confirm", str(outbox_id), "--ref", "10422", "--as", "bw-ta")
    assert code == 1 and "Tom Assistant is not on the DSL team" in err
    code, out, _err = hvc(capsys, "outbox", "confirm", str(outbox_id), "--ref", "10422", "--as", "bw-dsl")
    assert code == 0 and "entered in CPOMS as 10422, confirmed by Dana Lead" in out
    with store.connect() as conn:
        record = get_record(conn, outbox_id)
        written, confirmed = [e for e in audit.history(conn, "v-3") if e.action in ("outbox.written", "outbox.confirmed")]
    assert (record.status, record.cpoms_id) == ("sent", "10422")
    assert confirmed.actor == "bw-dsl" and confirmed.detail["confirmed_by"] == "Dana Lead"
    # The visit's history says in words where the record went, as it does for every other outbox step.
    [line] = history_lines([written], {"bw-dsl": "Dana Lead"}, "the pupil")
    assert line.split("  ")[1] == (f"The CPOMS push left outbox record #{outbox_id} written out for the DSL team to "
                                   f"enter in CPOMS by hand, in {records / 'v-3-r1.txt'}.")
    code, _out, err = hvc(capsys, "outbox", "confirm", str(outbox_id), "--ref", "10423", "--as", "bw-dsl")
    assert code == 1 and "is sent, not awaiting entry" in err
