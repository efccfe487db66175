"""Retention: ``hvc retention run`` removes what the schedule says, never what is held, leaves tombstones, and
the audit log still verifies; ``--dry-run`` changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from test_record_hashes import _reported_visit, _store  # type: ignore[import-not-found]

from hv_connector.config.settings import RetentionSettings
from hv_connector.store import Store
from hv_connector.store.schema import pupil_alerts, pupils
from hv_connector.visits.retention import plan, todo, unsent_text

Hvc = Callable[..., tuple[int, str, str]]


def test_a_retention_run_removes_what_is_due_keeps_what_is_held_and_the_log_verifies(
        hvc: Hvc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_RETENTION__ROUTINE_VISIT_YEARS", "0")  # every routine finished visit is due today
    due, held = _reported_visit(hvc, tmp_path), _reported_visit(hvc, tmp_path)
    _deliver(hvc)
    code, out, _ = hvc("retention", "hold", "visit", held, "--school", "potton", "--as", "pt-dsl",
                       "--reason", "May concern an allegation: keep until the LADO says otherwise.")
    assert code == 0 and "no retention run will remove it" in out

    code, _, err = hvc("retention", "hold", "visit", "pt-nope", "--school", "potton", "--as", "pt-dsl", "--reason", "x")
    assert code == 2 and "no visit 'pt-nope' in school 'potton'" in err
    code, out, _ = hvc("retention", "run", "--dry-run", "--json")
    assert code == 0 and [d["record_id"] for d in json.loads(out)["due"]] == [due]
    assert hvc("visit", "show", due)[0] == 0  # a dry run changes nothing

    code, out, _ = hvc("retention", "run")
    assert code == 0 and f"removed  visit       potton          {due}" in out
    assert hvc("visit", "show", due)[0] == 2 and hvc("visit", "show", held)[0] == 0
    code, out, _ = hvc("audit", "verify")
    assert code == 0 and "intact" in out
    trail = json.loads(hvc("audit", "show", due, "--json")[1])
    assert trail[-1]["action"] == "retention.erase" and trail[-1]["detail"]["entries_erased"] == len(trail) - 1
    assert all(entry["detail"] == {} and entry["erased_at"] for entry in trail[:-1])

    code, out, _ = hvc("retention", "holds")
    assert held in out and "LADO" in out
    assert hvc("retention", "release", "1", "--as", "pt-dsl")[0] == 0
    assert [d["record_id"] for d in json.loads(hvc("retention", "run", "--dry-run", "--json")[1])["due"]] == [held]


def _outbox(hvc: Hvc, visit_id: str | None = None) -> list[dict[str, Any]]:
    code, out, _ = hvc("outbox", "list", "--json")
    assert code == 0
    return [r for r in json.loads(out) if visit_id is None or r["visit_id"] == visit_id]


def _deliver(hvc: Hvc) -> None:
    """Every record through the manual sink into CPOMS: pushed, entered by the DSL team, confirmed."""
    assert hvc("push")[0] == 0
    for record in _outbox(hvc):
        if record["status"] == "awaiting-entry":
            assert hvc("outbox", "confirm", str(record["id"]), "--ref", f"CP-{record['id']}", "--as", "pt-dsl")[0] == 0
    assert {r["status"] for r in _outbox(hvc)} == {"sent"}


def test_a_visit_whose_records_have_not_reached_cpoms_is_held_back_until_they_have(
        hvc: Hvc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_RETENTION__ROUTINE_VISIT_YEARS", "0")  # every routine finished visit is due today
    visit_id = _reported_visit(hvc, tmp_path)
    assert [r["status"] for r in _outbox(hvc, visit_id)] == ["pending"]  # its report, not yet pushed

    code, out, _ = hvc("retention", "run")
    assert code == 0 and "removed" not in out.split("record(s)")[0], out
    assert f"held back  visit  potton          {visit_id}  (routine visit finished" in out
    assert ("1 visit(s) held back, not removed: 1 record(s) not yet on their pupil's chronology in CPOMS: "
            "1 pending (not yet sent to CPOMS)") in out
    assert "push them (`hvc push`)" in out
    assert hvc("visit", "show", visit_id)[0] == 0 and len(_outbox(hvc, visit_id)) == 1  # nothing vanished
    trail = json.loads(hvc("audit", "show", visit_id, "--json")[1])
    assert trail[-1]["action"] == "retention.held-back" and trail[-1]["detail"]["unsent"] == {"pending": 1}
    # The next night, held back by the same record: said again by the run, not audited again.
    code, out, _ = hvc("retention", "run")
    assert code == 0 and f"held back  visit  potton          {visit_id}" in out
    assert json.loads(hvc("audit", "show", visit_id, "--json")[1]) == trail

    assert hvc("push")[0] == 0  # the manual sink writes it out for the DSL team to enter by hand
    assert [r["status"] for r in _outbox(hvc, visit_id)] == ["awaiting-entry"]
    code, out, _ = hvc("retention", "run", "--dry-run", "--json")
    planned = json.loads(out)
    assert code == 0 and planned["due"] == []
    [held] = planned["held_back"]
    assert held["record_id"] == visit_id and held["unsent"] == {"awaiting-entry": 1}
    assert "hvc outbox confirm" in held["todo"]
    # Held back by a record in another state now: audited again, with what holds it.
    assert hvc("retention", "run")[0] == 0
    held_back = [e["detail"]["unsent"] for e in json.loads(hvc("audit", "show", visit_id, "--json")[1])
                 if e["action"] == "retention.held-back"]
    assert held_back == [{"pending": 1}, {"awaiting-entry": 1}]

    _deliver(hvc)
    code, out, _ = hvc("retention", "run")
    assert code == 0 and f"removed  visit       potton          {visit_id}" in out and "held back" not in out
    assert hvc("visit", "show", visit_id)[0] == 2
    code, out, err = hvc("audit", "verify")
    assert code == 0, out + err


def test_a_leavers_mis_id_prints_on_its_one_line(hvc: Hvc) -> None:  # type: ignore[no-untyped-def]
    with _store() as store, store.begin() as conn:  # a pupil who left long ago, under an id the MIS chose
        row = dict(conn.execute(select(pupils).limit(1)).mappings().one())
        conn.execute(insert(pupils).values({**row, "mis_id": "L1\nFORGED line", "address_text": "1 Lane",
                                            "archived_at": datetime(2001, 9, 1, tzinfo=timezone.utc)}))
    code, out, _ = hvc("retention", "run", "--dry-run")
    assert code == 0 and "L1\\x0aFORGED line" in out and "\nFORGED" not in out


def test_a_leaver_is_due_while_any_of_their_mis_background_is_left(store: Store) -> None:
    left = datetime(2001, 9, 1, tzinfo=timezone.utc)
    with store.begin() as conn:
        for mis_id, address in (("L-address", "1 Lane"), ("L-alert", None), ("L-gone", None)):
            conn.execute(insert(pupils).values(school_id="potton", mis_id=mis_id, forename="Lee", surname="Leaver",
                                               address_text=address, archived_at=left))
        conn.execute(insert(pupil_alerts).values(school_id="potton", pupil_mis_id="L-alert", kind="medical",
                                                 text="Asthma"))
    with store.connect() as conn:
        due = plan(conn, RetentionSettings(), datetime(2026, 11, 23, tzinfo=timezone.utc)).due
    assert sorted(d.record_id for d in due if d.kind == "leaver") == ["L-address", "L-alert"]  # L-gone: removed already


def test_a_visit_held_back_by_a_record_in_cpoms_tray_is_told_to_attach_it_not_to_enter_it() -> None:
    said = todo({"in-tray": 1})
    assert "Incident Tray" in said and "entered" not in said and "hvc outbox confirm" in said
    assert "entered in CPOMS" in todo({"awaiting-entry": 1})


def test_a_held_back_visit_says_where_each_of_its_records_is() -> None:
    said = unsent_text({"in-tray": 1, "awaiting-entry": 2, "pending": 1})
    assert said == ("4 record(s) not yet on their pupil's chronology in CPOMS: 1 pending (not yet sent to CPOMS), "
                    "2 awaiting-entry (written out for the DSL team to enter in CPOMS by hand), "
                    "1 in-tray (in CPOMS's Incident Tray, on no pupil's chronology)")
