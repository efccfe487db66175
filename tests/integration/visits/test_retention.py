"""Retention: ``hvc retention run`` removes what the schedule says, never what is held, leaves tombstones, and
the audit log still verifies; ``--dry-run`` changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from test_record_hashes import _reported_visit, _store  # type: ignore[import-not-found]

from hv_connector.config.settings import RetentionSettings
from hv_connector.store import Store
from hv_connector.store.schema import pupil_alerts, pupils
from hv_connector.visits.retention import plan

Hvc = Callable[..., tuple[int, str, str]]


def test_a_retention_run_removes_what_is_due_keeps_what_is_held_and_the_log_verifies(
        hvc: Hvc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_RETENTION__ROUTINE_VISIT_YEARS", "0")  # every routine finished visit is due today
    due, held = _reported_visit(hvc, tmp_path), _reported_visit(hvc, tmp_path)
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
        due = plan(conn, RetentionSettings(), datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert sorted(d.record_id for d in due if d.kind == "leaver") == ["L-address", "L-alert"]  # L-gone: removed already
