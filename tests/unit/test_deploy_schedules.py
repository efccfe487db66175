"""The schedules shipped in deploy/ run a nightly full sync besides the incremental ones (README: why)."""

from __future__ import annotations

import configparser
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_cron_runs_incremental_syncs_by_day_and_a_full_one_by_night() -> None:
    jobs = [line.split(None, 6) for line in (DEPLOY / "cron" / "hv-connector").read_text().splitlines()
            if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    syncs = [job[6] for job in jobs if job[6].startswith("hvc sync")]
    assert any(cmd.startswith("hvc sync >>") for cmd in syncs)
    assert any(cmd.startswith("hvc sync --full") for cmd in syncs)


def test_systemd_has_a_nightly_full_sync_timer_for_its_own_service() -> None:
    def unit(name: str) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(strict=False)
        parser.read_string((DEPLOY / "systemd" / name).read_text())
        return parser

    assert unit("hvc-sync.service")["Service"]["ExecStart"].endswith("hvc sync")
    assert unit("hvc-sync-full.service")["Service"]["ExecStart"].endswith("hvc sync --full")
    assert unit("hvc-sync-full.timer")["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
