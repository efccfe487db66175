"""`hvc sync` refreshes the proposals at its end: the worklist follows the register, and says when it cannot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from hv_connector.builtin.wonde_adapter import WondeConnections
from hv_connector.cli import main
from hv_connector.clock import LONDON, FixedClock
from hv_connector.config.settings import Settings
from hv_connector.store import Store
from hv_connector.store.schema import pupils
from hv_connector.sync.pipeline import sync_school
from hvc_fixtures import config as toml_config
from hvc_fixtures.data import STUDENT, UNEXPLAINED_RUN_PUPIL, Dataset, school
from hvc_fixtures.serve import RunningServer
from tests.clockkit import CommandClock

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=LONDON)


def write_config(tmp_path: Path, wonde: RunningServer, **potton: object) -> None:
    """Potton alone, syncing from ``wonde``, with ``potton`` as more keys of its entry."""
    toml_config.write_config(tmp_path / "hvc.toml", toml_config.schools_config(
        database=tmp_path / "hvc.db", wonde=wonde, wonde_options={"requests_per_second": 1000},
        schools=["potton"], school_options=lambda sch: potton))


@pytest.fixture
def hvc(tmp_path: Path, wonde_server: RunningServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``hvc ARGS`` on Potton synced from the fake Wonde, from 08:00 on the Monday after its register's last day.

    Each command starts after the one before (:class:`~tests.clockkit.CommandClock`).
    """
    write_config(tmp_path, wonde_server)
    clock = CommandClock(monkeypatch, MONDAY)

    def run(*args: str) -> tuple[int, str, str]:
        with clock.command():
            code = main(["--config", str(tmp_path / "hvc.toml"), *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_a_sync_proposes_a_visit_for_the_pupil_missing_with_no_reason_given(hvc) -> None:
    code, out, err = hvc("sync")
    assert code == 0, out + err
    assert "potton: proposals:" in out and "new" in out
    code, out, _ = hvc("propose", "list", "--school", "potton", "--json")
    missing = Dataset(1, 60).id(STUDENT, school("potton"), UNEXPLAINED_RUN_PUPIL)
    met = {(p["pupil_mis_id"], p["trigger"]["id"]) for p in json.loads(out)["proposals"]}
    assert (missing, "core.missing-education") in met and (missing, "potton.unexplained-absence") in met


def test_propose_list_prints_a_pupils_name_on_its_one_line(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert hvc("sync")[0] == 0
    missing = Dataset(1, 60).id(STUDENT, school("potton"), UNEXPLAINED_RUN_PUPIL)
    with Store.open(f"sqlite:///{tmp_path / 'hvc.db'}") as store, store.begin() as conn:  # as an older version kept it
        conn.execute(update(pupils).where(pupils.c.mis_id == missing).values(display_name="Jo Bloggs\nFORGED line"))
    code, out, _ = hvc("propose", "list")
    assert code == 0 and "Jo Bloggs\\x0aFORGED line" in out and "\nFORGED" not in out


def test_a_school_whose_register_is_withheld_gets_no_proposals_and_a_line_saying_why(hvc, wonde_server) -> None:
    assert hvc("sync")[0] == 0
    wonde_server.fake.inject(status=403, path="/attendance/session", count=None)
    code, out, _ = hvc("sync")
    assert code == 0 and "potton: proposals: none: Register: not available" in out
    code, out, _ = hvc("propose", "list")
    assert "potton: no proposals: Register: not available" in out and "p-" not in out


def test_config_check_names_a_threshold_no_trigger_reads_and_one_that_is_not_a_number(tmp_path, hvc,
                                                                                       wonde_server) -> None:
    write_config(tmp_path, wonde_server, triggers={"missing_day": 2, "legal_threshold_percent": "seventy"})
    code, out, err = hvc("config", "check")
    assert code == 2
    assert "schools.potton.triggers.missing_day" in out + err and "missing_days" in out + err
    assert "schools.potton.triggers.legal_threshold_percent" in out + err


def test_what_runs_after_the_write_failing_is_said_and_the_sync_still_stands(wonde_server, store) -> None:
    settings = Settings(wonde={"token": "test-token", "base_url": wonde_server.api, "requests_per_second": 1000},
                        schools=[{"id": "potton", "name": "Potton", "policy": "potton", "mis_school_id": school("potton").wonde_id}])
    adapter = WondeConnections()(settings, settings.school("potton"))

    def broken(school_id: str) -> str:
        raise RuntimeError(f"no refresh for {school_id}")

    result = asyncio.run(sync_school(store, adapter, adapter_name="wonde", full=True, clock=FixedClock(MONDAY),
                                     write_lock=asyncio.Lock(), after_write=broken))
    assert result.ok and "not refreshed after the sync" in result.after and "hvc propose refresh" in result.after
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pupils)).scalar() == 60
