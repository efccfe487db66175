"""The audit log proves pupils' alert sets: a sync that changes a pupil's alerts writes one entry with the set's
hash, and verify names an alert deleted, edited or forged in SQL since (SQLite, then PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from hv_connector.store import Store, alert_sets, audit
from hv_connector.store.schema import audit as audit_table
from hv_connector.store.schema import pupil_alerts
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.records import AlertRecord, PupilRecord
from hv_connector.sync.store import write_pupils
from hvc_fixtures.data import SCHOOLS, STUDENT
from hvc_fixtures.serve import RunningServer
from tests.integration import test_sync
from tests.integration.test_sync import store_of, write_config

Hvc = Callable[..., tuple[int, str, str]]
hvc = test_sync.hvc
"""``hvc ARGS`` in-process on ``<tmp>/hvc.toml``: the sync tests' fixture."""
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
COURT = AlertRecord(kind="court-order", text="Father not to have contact (fictional order).")
PLAN = AlertRecord(kind="child-protection-plan", text="On a plan since September.")


def _pupil(mis_id: str, *alerts: AlertRecord) -> PupilRecord:
    return PupilRecord(mis_id=mis_id, display_name=f"Pupil {mis_id}", alerts=alerts)


def _sync(store: Store, *records: PupilRecord) -> None:
    with store.begin() as conn:
        write_pupils(conn, "potton", list(records), SchoolResult("potton", NOW), NOW)


def _roster(court: bool = True) -> list[PupilRecord]:
    """Three pupils: one with two alerts (the court order when ``court``), one with one, one with none."""
    return [_pupil("A100", *((COURT, PLAN) if court else (PLAN,))), _pupil("A200", PLAN), _pupil("A300")]


def _entries(store: Store) -> list[audit.AuditEntry]:
    with store.connect() as conn:
        return audit.entries(conn, audit_table.c.action == alert_sets.ACTION)


def _problems(store: Store) -> list[str]:
    sets: dict[alert_sets.Pupil, tuple[int, str]] = {}
    with store.connect() as conn:
        assert audit.inspect(conn, alert_sets=sets) is None
        return [str(problem) for problem in alert_sets.compare(conn, sets)]


def test_a_sync_audits_only_the_pupils_whose_alerts_it_changed(store: Store) -> None:
    _sync(store, *_roster())
    first = _entries(store)
    assert [(e.actor, e.detail) for e in first] == [
        ("hvc sync", {"pupil": "A100", "alerts": 2, "added": 2, "removed": 0}),
        ("hvc sync", {"pupil": "A200", "alerts": 1, "added": 1, "removed": 0})]
    assert all(COURT.text not in str(e.as_json()) for e in first)  # the text is only in the hash
    _sync(store, *_roster())
    assert _entries(store) == first  # nothing changed: nothing written
    _sync(store, *_roster(court=False))  # the court order ended in the MIS
    [removed] = _entries(store)[2:]
    assert removed.detail == {"pupil": "A100", "alerts": 1, "added": 0, "removed": 1}
    assert _problems(store) == []


def test_a_pupil_whose_alerts_all_end_or_who_gains_a_first_one_is_audited(store: Store) -> None:
    _sync(store, *_roster())
    _sync(store, _pupil("A100"), _pupil("A200", PLAN), _pupil("A300", COURT))  # A100's plan and order end; A300's begins
    assert [e.detail for e in _entries(store)[2:]] == [
        {"pupil": "A100", "alerts": 0, "added": 0, "removed": 2},
        {"pupil": "A300", "alerts": 1, "added": 1, "removed": 0}]
    assert _problems(store) == []


def _one_alert(conn: Any, kind: str) -> Any:
    return select(pupil_alerts.c.id).where(pupil_alerts.c.pupil_mis_id == "A100", pupil_alerts.c.kind == kind)


TAMPERS = {
    "court order deleted": lambda conn: conn.execute(delete(pupil_alerts).where(
        pupil_alerts.c.id.in_(_one_alert(conn, "court-order").scalar_subquery()))),
    "alert text edited": lambda conn: conn.execute(update(pupil_alerts).where(
        pupil_alerts.c.pupil_mis_id == "A100", pupil_alerts.c.kind == "child-protection-plan").values(text="Closed.")),
    "alert forged": lambda conn: conn.execute(insert(pupil_alerts).values(
        school_id="potton", pupil_mis_id="A100", kind="looked-after", text="Forged.")),
}


def test_every_alert_changed_outside_hv_connector_is_named_with_its_entry(store: Store) -> None:
    _sync(store, *_roster())
    seq = next(e.seq for e in _entries(store) if e.detail["pupil"] == "A100")
    for name, tamper in TAMPERS.items():
        with store.begin() as conn:
            saved = [dict(row) for row in conn.execute(select(pupil_alerts)).mappings()]
            tamper(conn)
        assert _problems(store) == [
            f"Pupil A100 (potton): alert set changed outside hv-connector since audit entry #{seq}"], name
        with store.begin() as conn:  # put it back for the next tamper
            conn.execute(delete(pupil_alerts))
            conn.execute(insert(pupil_alerts), saved)
    assert _problems(store) == []


def test_alerts_no_entry_records_are_named_until_sealed(store: Store) -> None:
    _sync(store, *_roster())
    with store.begin() as conn:
        conn.execute(insert(pupil_alerts).values(school_id="potton", pupil_mis_id="A300", kind="no-contact",
                                                 text="Forged."))
    assert [p.split(":")[0] for p in _problems(store)] == [
        "Pupil A300 (potton) has alerts no audit entry records"]
    with store.begin() as conn:
        assert audit.seal(conn, actor="pt-dsl", at=NOW) == (0, 1)
    assert _problems(store) == []


def test_a_first_sync_writes_one_entry_per_pupil_with_alerts(store: Store) -> None:
    roster = [_pupil(f"A{n:04}", *((COURT,) if n % 10 == 0 else ())) for n in range(200)]
    _sync(store, *roster)
    with store.connect() as conn:
        written = conn.execute(select(func.count()).select_from(audit_table)).scalar()
    assert written == 20


def _with_alerts(tmp_path: Path) -> dict[str, int]:
    """Potton's pupils with alerts after a sync: MIS id → how many."""
    with store_of(tmp_path) as store, store.connect() as conn:
        rows = conn.execute(select(pupil_alerts.c.pupil_mis_id, func.count()).where(pupil_alerts.c.school_id == "potton")
                            .group_by(pupil_alerts.c.pupil_mis_id))
        return dict(rows.all())


def test_hvc_audit_verify_names_a_court_order_deleted_in_sql(tmp_path: Path, wonde_server: RunningServer,
                                                              hvc: Hvc) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"])
    assert hvc("sync")[0] == 0
    pupil = sorted(_with_alerts(tmp_path))[0]
    code, out, _ = hvc("audit", "verify")
    assert code == 0 and "intact" in out
    assert hvc("sync")[0] == 0 and hvc("audit", "verify")[0] == 0  # an unchanged resync still verifies
    with store_of(tmp_path) as store, store.begin() as conn:
        [seq] = [e.seq for e in audit.entries(conn, audit_table.c.action == alert_sets.ACTION)
                 if e.detail["pupil"] == pupil]
        conn.execute(delete(pupil_alerts).where(pupil_alerts.c.pupil_mis_id == pupil))
    code, out, _ = hvc("audit", "verify")
    assert code == 1 and f"Pupil {pupil} (potton): alert set changed outside hv-connector since audit entry #{seq}." in out


def test_retention_erasing_a_leavers_alerts_keeps_the_log_verifying(tmp_path: Path, wonde_server: RunningServer,
                                                                    hvc: Hvc, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"])
    assert hvc("sync")[0] == 0
    pupil = sorted(_with_alerts(tmp_path))[0]
    school = SCHOOLS[[s.slug for s in SCHOOLS].index("potton")]
    index = next(i for i in range(60) if wonde_server.fake.data.id(STUDENT, school, i) == pupil)
    assert wonde_server.fake.mutate("potton", delete=[index])["deleted"] == [pupil]
    assert hvc("sync")[0] == 0
    monkeypatch.setenv("HVC_RETENTION__LEAVER_DATA_YEARS", "0")
    code, out, _ = hvc("retention", "run")
    assert code == 0 and pupil in out and pupil not in _with_alerts(tmp_path)
    code, out, _ = hvc("audit", "verify")
    assert code == 0 and "intact" in out
    with store_of(tmp_path) as store, store.connect() as conn:
        erased = [e for e in audit.entries(conn, audit_table.c.action == alert_sets.ACTION) if e.erased_at]
    assert len(erased) == 1 and erased[0].detail == {}
