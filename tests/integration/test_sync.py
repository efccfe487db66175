"""``hvc sync`` against the fake Wonde on loopback: full and incremental runs, deletions, quarantine,
failures of one school, and a run killed part-way then re-run."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from hv_connector.cli import main
from hv_connector.store import Store
from hv_connector.store.schema import pupil_contacts, pupils, quarantine, sync_cursors, sync_runs, visits
from hv_connector.sync.pipeline import SchoolResult
from hv_connector.sync.store import record_run
from hvc_fixtures import config as toml_config
from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.serve import RunningServer
from tests.trialkit import trial_seed

SLUGS = [s.slug for s in SCHOOLS]


def write_config(tmp_path: Path, server: RunningServer, *, token: str | None = "test-token",
                 schools: list[str] = SLUGS, mis: str | None = None) -> Path:
    """An hvc.toml for the demo schools (all five unless named) syncing from ``server``."""
    return toml_config.write_config(tmp_path / "hvc.toml", toml_config.schools_config(
        database=tmp_path / "hvc.db", wonde=server, token=token, wonde_options={"requests_per_second": 1000},
        schools=schools, school_options=lambda sch: {"mis": mis}))


@pytest.fixture
def hvc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``hvc --config <tmp>/hvc.toml ARGS`` in-process: (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(tmp_path / "hvc.toml"), *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def store_of(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path}/hvc.db")


def counts_by_school(store: Store, archived: bool | None = False) -> dict[str, int]:
    query = select(pupils.c.school_id, func.count()).group_by(pupils.c.school_id)
    if archived is not None:
        query = query.where(pupils.c.archived_at.is_not(None) if archived else pupils.c.archived_at.is_(None))
    with store.connect() as conn:
        return dict(conn.execute(query).all())


def test_a_full_sync_stores_every_pupil_of_every_school(tmp_path: Path, wonde_server: RunningServer,
                                                         hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server)
    code, out, err = hvc("sync")
    assert code == 0, out + err
    assert counts_by_school(store_of(tmp_path)) == {slug: 60 for slug in SLUGS}
    assert "potton" in out and " 60 " in out
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # not a terminal: cron's log, every line timed
    assert all(stamp.match(line) for line in (out + err).splitlines()), out + err
    stats = wonde_server.fake.stats.snapshot()
    marks = stats["by_resource"].pop("attendance")  # session marks: as many pages as the days a figure reads
    # includes: one page per school; the school's granted scopes once per school
    assert stats["by_resource"] == {"students": 5, "deletions": 5, "attendance-codes": 5, "permissions": 5}
    assert marks >= 5


def test_an_incremental_sync_with_no_changes_asks_once_per_resource_per_school(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server)
    assert hvc("sync")[0] == 0
    wonde_server.control.reset_stats()
    code, out, _ = hvc("sync", "--json")
    assert code == 0
    stats = wonde_server.control.stats()
    assert stats["by_school"] == {sch.wonde_id: 5 for sch in SCHOOLS}
    assert stats["by_resource"] == {"students": 5, "deletions": 5, "attendance": 5, "attendance-codes": 5,
                                    "permissions": 5}
    assert all(row["added"] == row["updated"] == 0 for row in json.loads(out))


def test_changes_are_applied_and_pupils_who_left_are_archived_not_deleted(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server)
    assert hvc("sync")[0] == 0
    touched = wonde_server.fake.mutate("potton", update=3, delete=2, add=1)
    code, out, _ = hvc("sync", "--school", "potton", "--json")
    assert code == 0
    [summary] = json.loads(out)
    assert (summary["added"], summary["updated"], summary["archived"]) == (1, 3, 2)
    store = store_of(tmp_path)
    assert counts_by_school(store)["potton"] == 60 - 2 + 1
    with store.connect() as conn:
        archived = set(conn.execute(select(pupils.c.mis_id).where(pupils.c.archived_at.is_not(None))).scalars())
        contacts_kept = conn.execute(select(func.count()).select_from(pupil_contacts).where(
            pupil_contacts.c.pupil_mis_id.in_(touched["deleted"]))).scalar()
    assert archived == set(touched["deleted"])
    assert contacts_kept > 0  # the record stays whole: visits still point at it


def test_a_full_sync_archives_pupils_the_mis_no_longer_lists(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer],
        hvc: Callable[..., tuple[int, str, str]]) -> None:
    bigger = make_wonde_server(pupils={"potton": 60})
    write_config(tmp_path, bigger, schools=["potton"])
    assert hvc("sync")[0] == 0
    smaller = make_wonde_server(pupils={"potton": 57})  # three left and the deletions feed forgot them
    write_config(tmp_path, smaller, schools=["potton"])
    code, out, _ = hvc("sync", "--full", "--json")
    assert code == 0 and json.loads(out)[0]["archived"] == 3
    assert counts_by_school(store_of(tmp_path), archived=True) == {"potton": 3}


def test_pages_that_shift_while_being_walked_neither_lose_nor_double_a_pupil(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer],
        hvc: Callable[..., tuple[int, str, str]]) -> None:
    server = make_wonde_server(pupils={"potton": 450}, page_drift=7)
    write_config(tmp_path, server, schools=["potton"])
    code, out, _ = hvc("sync", "--json")
    assert code == 0
    assert (json.loads(out)[0]["added"], json.loads(out)[0]["updated"]) == (450, 0)
    assert counts_by_school(store_of(tmp_path)) == {"potton": 450}


def test_malformed_records_are_quarantined_and_the_rest_synced(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer],
        hvc: Callable[..., tuple[int, str, str]]) -> None:
    server = make_wonde_server(malformed_every=7)
    write_config(tmp_path, server)
    code, out, _ = hvc("sync")
    assert code == 0
    bad = set(server.fake.malformed_served)
    assert bad and "quarantined students" in out
    code, out, _ = hvc("sync", "status", "--json")
    status = json.loads(out)
    assert {item["record_id"] for item in status["quarantine"]} == bad
    stored = sum(counts_by_school(store_of(tmp_path)).values())
    assert stored == 5 * 60 - len(bad)


def test_sync_status_prints_a_failure_and_a_quarantine_reason_each_on_its_one_line(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"])
    assert hvc("sync")[0] == 0
    then = datetime(2026, 10, 5, 15, tzinfo=timezone.utc)
    with store_of(tmp_path).begin() as conn:  # an MIS's words, as an adapter passed them on: a line break in them
        conn.execute(insert(sync_runs).values(school_id="potton", started_at=then, finished_at=then, status="failed",
                                              message="the MIS said no\npotton ok"))
        conn.execute(insert(quarantine).values(school_id="potton", resource="students", record_id="S1\nS2",
                                               reason="bad date\nfixed", first_seen_at=then, last_seen_at=then))
    code, out, _ = hvc("sync", "status")
    assert code == 0
    assert "the MIS said no\\x0apotton ok" in out and "S1\\x0aS2" in out and "bad date\\x0afixed" in out
    assert "\npotton ok" not in out and "\nfixed" not in out


def test_a_record_fixed_in_the_mis_leaves_quarantine(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer],
        hvc: Callable[..., tuple[int, str, str]]) -> None:
    server = make_wonde_server(malformed_every=7)
    write_config(tmp_path, server, schools=["potton"])
    assert hvc("sync")[0] == 0
    server.fake.configure(malformed_every=0)
    assert hvc("sync", "--full")[0] == 0
    _, out, _ = hvc("sync", "status", "--json")
    assert json.loads(out)["quarantine"] == []
    assert counts_by_school(store_of(tmp_path)) == {"potton": 60}


def test_a_school_that_revoked_approval_fails_alone_with_what_to_do(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server)
    wonde_server.fake.set_approval("potton", "revoked")
    code, out, err = hvc("sync")
    assert code == 1
    assert "school A0917230003 has not approved hv-connector or revoked it" in out
    assert "re-approve hv-connector in its Wonde portal" in out
    assert "potton" in err and "the others are synced" in err
    counts = counts_by_school(store_of(tmp_path))
    assert "potton" not in counts and all(counts[s] == 60 for s in SLUGS if s != "potton")
    _, out, _ = hvc("sync", "status", "--json")
    runs = {run["school_id"]: run for run in json.loads(out)["schools"]}
    assert runs["potton"]["status"] == "failed" and runs["hexthorpe"]["status"] == "ok"


def test_a_wrong_token_names_the_setting_that_holds_it(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, token="not-the-token")
    code, out, err = hvc("sync", "--school", "potton")
    assert code == 1
    assert "HVC_WONDE__TOKEN" in out and "not-the-token" not in out + err


def test_no_token_at_all_is_bad_config(tmp_path: Path, wonde_server: RunningServer,
                                       hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, token=None)
    code, _, err = hvc("sync")
    assert code == 2 and "HVC_WONDE__TOKEN is not set" in err


def test_a_school_whose_mis_adapter_is_not_installed_is_bad_config(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"], mis="arbor")
    code, _, err = hvc("sync")
    assert code == 2
    assert "'arbor'" in err and "installed: wonde" in err and "`mis` under [schools.potton]" in err
    assert wonde_server.fake.stats.snapshot()["requests"] == 0


def test_rate_limits_and_outages_are_ridden_out(tmp_path: Path, wonde_server: RunningServer,
                                                hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server)
    wonde_server.fake.inject(status=429, retry_after=0, count=3)
    wonde_server.fake.inject(status=503, retry_after=0, count=2, path="/students")
    code, _, err = hvc("sync")
    assert code == 0, err
    assert counts_by_school(store_of(tmp_path)) == {slug: 60 for slug in SLUGS}


def test_pupil_show_gives_the_briefing_with_earlier_visits_at_the_address(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"])
    assert hvc("sync")[0] == 0
    fake = wonde_server.fake
    pupil = fake.data.pupil("potton", 12)  # the court-order block
    address = store_address(tmp_path, pupil.id)
    then = datetime(2026, 10, 5, 15, tzinfo=timezone.utc)
    with store_of(tmp_path).begin() as conn:
        conn.execute(insert(visits).values(
            id="v-earlier", school_id="potton", pupil_mis_id=pupil.id, state="reported", planned_start=then,
            address_text=address, reason="attendance", staff_ids=[], version=1, created_at=then, updated_at=then,
            data={"outcome": {"child_seen": True, "concerns": "Father seen at the address", "cp_concern": False}}))
    code, out, _ = hvc("pupil", "show", pupil.upn, "--json")
    assert code == 0
    briefing = json.loads(out)
    assert briefing["display_name"] == f"{pupil.forename} {pupil.surname}"
    assert (briefing["upn"], briefing["native_id"], briefing["upi"]) == (pupil.upn, pupil.mis_id, pupil.upi)
    assert briefing["alerts"][0]["kind"] == "child-protection-plan"  # from the date-range include
    assert all(c["parental_responsibility"] for c in briefing["contacts"][:2])
    assert briefing["attendance_summary"]["possible"] > 0 and briefing["gaps"] == {}
    [visit] = briefing["earlier_visits"]
    assert visit["same_pupil"] and "Father seen at the address" in visit["outcome"] and visit["concern"]
    code, text, _ = hvc("pupil", "show", pupil.id)
    assert "Court-order terms, no-contact orders, child in need, young carer: not available from the MIS" in text
    assert "Earlier visits at this address:" in text


def test_absences_the_mis_did_not_send_read_as_not_known_never_as_none(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    """wonde.md §0: Wonde documents only "absence marks". A summary without the names we read must not make a
    pupil look as if they had no absences, in the briefing or in what a subject-access export shows."""
    write_config(tmp_path, wonde_server, schools=["potton"])
    wonde_server.fake.configure(summary_absences=False)
    assert hvc("sync")[0] == 0
    pupil = wonde_server.fake.data.pupil("potton", 12)
    code, out, _ = hvc("pupil", "show", pupil.id, "--json")
    summary = json.loads(out)["attendance_summary"]
    assert code == 0 and summary["possible"] > 0
    assert (summary["authorised"], summary["unauthorised"]) == (None, None)
    code, text, _ = hvc("pupil", "show", pupil.id)
    [line] = [line for line in text.splitlines() if line.startswith("Attendance (MIS summary")]
    assert code == 0 and "not known authorised, not known unauthorised absences" in line, line
    assert " 0 authorised" not in line and " 0 unauthorised" not in line
    assert hvc("export", "pupil", pupil.id, "--out", str(tmp_path / "sar"))[0] == 0
    exported = (tmp_path / "sar" / f"subject-access-potton-{pupil.id}.txt").read_text()
    attendance = exported.split("Attendance\n==========\n")[1].split("\n\n")[0]
    assert "  authorised: not known" in attendance and "  unauthorised: not known" in attendance, attendance


def test_absences_the_mis_sends_under_the_names_we_read_are_shown_as_sent(
        tmp_path: Path, wonde_server: RunningServer, hvc: Callable[..., tuple[int, str, str]]) -> None:
    """The other setting of the fake's ``summary_absences`` switch: a summary that names its absence marks as we
    guess gives those figures, not "not known"."""
    write_config(tmp_path, wonde_server, schools=["potton"])
    wonde_server.fake.configure(summary_absences=True)
    assert hvc("sync")[0] == 0
    pupil = wonde_server.fake.data.pupil("potton", 12)
    sent = pupil.attendance[0]
    code, out, _ = hvc("pupil", "show", pupil.id, "--json")
    summary = json.loads(out)["attendance_summary"]
    assert code == 0 and (summary["authorised"], summary["unauthorised"]) == (sent.authorised_absence,
                                                                               sent.unauthorised_absence)


def store_address(tmp_path: Path, mis_id: str) -> str:
    with store_of(tmp_path).connect() as conn:
        return conn.execute(select(pupils.c.address_text).where(pupils.c.mis_id == mis_id)).scalar_one()


def test_an_unknown_pupil_says_how_to_find_them(tmp_path: Path, wonde_server: RunningServer,
                                                hvc: Callable[..., tuple[int, str, str]]) -> None:
    write_config(tmp_path, wonde_server, schools=["potton"])
    code, _, err = hvc("pupil", "show", "A0000000000")
    assert code == 2 and "hvc sync" in err


# --- a run killed part-way -------------------------------------------------------------------------


def school_state(store: Store) -> dict[str, tuple[int, bool]]:
    """Per school: (pupils stored, a pupils cursor committed)."""
    with store.connect() as conn:
        cursors = set(conn.execute(select(sync_cursors.c.school_id)
                                   .where(sync_cursors.c.resource == "pupils")).scalars())
        counts = dict(conn.execute(select(pupils.c.school_id, func.count()).group_by(pupils.c.school_id)).all())
        held = conn.execute(select(func.count()).select_from(quarantine)).scalar()
    assert held == 0
    return {slug: (counts.get(slug, 0), slug in cursors) for slug in SLUGS}


@pytest.mark.slow  # a kill-at-random trial: `make trials` runs it, beside the other trials
def test_a_run_killed_at_any_moment_leaves_each_school_as_before_or_complete(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer], store: Store, database_url: str) -> None:
    size = 250  # two pages a school
    server = make_wonde_server(pupils=size, latency_ms=40)
    config = write_config(tmp_path, server)
    command = [sys.executable, "-m", "hv_connector", "--config", str(config), "sync", "--full"]
    rng = random.Random(trial_seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")} | {"HVC_DATABASE__URL": database_url}
    for _ in range(3):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.8, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for slug, (count, cursor) in school_state(store).items():
            assert (count, cursor) in ((0, False), (size, True)), f"{slug} half-written: {count} pupils"
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert school_state(store) == {slug: (size, True) for slug in SLUGS}


def test_ctrl_c_during_a_sync_ends_it_with_exit_130_and_one_line(
        tmp_path: Path, make_wonde_server: Callable[..., RunningServer]) -> None:
    server = make_wonde_server(latency_ms=60_000)  # every request hangs: Ctrl-C lands mid-request
    config = write_config(tmp_path, server, schools=["potton"])
    sync = subprocess.Popen([sys.executable, "-m", "hv_connector", "--config", str(config), "sync"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not server.fake.stats.arrived and time.monotonic() < deadline:  # the first request reaches Wonde
            time.sleep(0.05)
        assert server.fake.stats.arrived, "the sync sent no request within 60 s"
        sync.send_signal(signal.SIGINT)
        out, err = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
    assert sync.returncode == 130, err
    assert "Traceback" not in err + out and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "hvc: stopped by Ctrl-C"


def test_a_failed_school_s_words_are_stored_as_data(store: Store) -> None:
    # A failure's message may carry the MIS's or an adapter plugin's words: a line break or escape in them is stored
    # as a visible escape, as every MIS text is.
    result = SchoolResult(SLUGS[0], datetime(2026, 11, 20, 18, tzinfo=timezone.utc), status="failed",
                          message="unexpected ValueError: bad\r\n2026-11-20 sync ok\x1b[2J")
    record_run(store, result)
    with store.connect() as conn:
        stored = conn.execute(select(sync_runs.c.message)).scalar_one()
    assert stored == "unexpected ValueError: bad\\x0d\\x0a2026-11-20 sync ok\\x1b[2J"
