"""The schedules agree: README.md's "Schedule" table, deploy/cron/ and deploy/systemd/ run each job at the same
times (the cron line's next firings are the systemd timer's, as ``systemd-analyze calendar`` expands it), and
the nightly full sync runs beside the incremental ones (README: why)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = datetime(2026, 11, 23, tzinfo=timezone.utc)
"""A Monday: the firings compared start here (UTC, as TZ=UTC tells systemd-analyze)."""
FIRINGS = 30


def _command(text: str) -> str:
    """``hvc push`` from ``/opt/…/bin/hvc push >> log 2>&1`` (the job, without its path or redirections)."""
    return re.sub(r"^\S*/hvc\b", "hvc", re.split(r"\s*(?:>|\|\|)", text.strip())[0].strip())


def cron_jobs() -> dict[str, str]:
    """deploy/cron: job → its five time fields."""
    jobs = {}
    for line in (DEPLOY / "cron" / "hv-connector").read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]:
            fields = line.split(None, 6)
            jobs[_command(fields[6])] = " ".join(fields[:5])
    return jobs


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def timers() -> dict[str, str]:
    """deploy/systemd: job (its service's ExecStart) → its timer's OnCalendar."""
    return {_command(_unit(timer.name.replace(".timer", ".service"))["Service"]["ExecStart"]):
            _unit(timer.name)["Timer"]["OnCalendar"] for timer in sorted((DEPLOY / "systemd").glob("hvc-*.timer"))}


def readme_schedule() -> dict[str, tuple[str, str]]:
    """README.md's "Schedule" table: job → (cron fields, OnCalendar)."""
    section = (ROOT / "README.md").read_text().split("### Schedule", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \|[^|]*\| `([^`]+)` \| `([^`]+)` \|$", section, re.MULTILINE)
    return {job: (cron, calendar) for job, cron, calendar in rows}


def _matches(field: str, value: int, low: int) -> bool:
    for part in field.split(","):
        span, _, step = part.partition("/")
        first, last = (low, 10**6) if span == "*" else (int(span.split("-")[0]), int(span.split("-")[-1]))
        if first <= value <= last and (value - first) % int(step or 1) == 0:
            return True
    return False


def cron_firings(fields: str, count: int = FIRINGS) -> list[datetime]:
    """The next ``count`` minutes from :data:`BASE` that the cron fields name."""
    minute, hour, day, month, weekday = fields.split()
    found, moment = [], BASE
    while len(found) < count:
        if (_matches(minute, moment.minute, 0) and _matches(hour, moment.hour, 0) and _matches(day, moment.day, 1)
                and _matches(month, moment.month, 1) and _matches(weekday, moment.isoweekday() % 7, 0)):
            found.append(moment)
        moment += timedelta(minutes=1)
    return found


def calendar_firings(calendar: str, count: int = FIRINGS) -> list[datetime]:
    """The next ``count`` times from :data:`BASE` systemd gives ``calendar`` (``systemd-analyze calendar``)."""
    done = subprocess.run(["systemd-analyze", "calendar", f"--iterations={count}",
                           f"--base-time={BASE:%Y-%m-%d %H:%M:%S} UTC", calendar],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    # systemd's first firing may be BASE itself only for a "from now" later than BASE; cron counts BASE.
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", done.stdout)
    return [datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc) for stamp in stamps]


def test_the_readme_cron_and_systemd_name_the_same_jobs_at_the_same_fields() -> None:
    readme, cron, calendars = readme_schedule(), cron_jobs(), timers()
    assert set(readme) == set(cron) == set(calendars), (readme, cron, calendars)
    for job, (cron_fields, calendar) in readme.items():
        assert cron[job] == cron_fields, f"{job}: README says {cron_fields}, deploy/cron says {cron[job]}"
        assert calendars[job] == calendar, f"{job}: README says {calendar}, its timer says {calendars[job]}"


def test_the_readme_cron_examples_are_deploy_crons() -> None:
    cron = cron_jobs()
    lines = re.findall(r"^((?:\S+\s+){5})(?:hvc\s+)?(\S*hvc .+)$", (ROOT / "README.md").read_text(), re.MULTILINE)
    examples = [(" ".join(fields.split()), _command(command)) for fields, command in lines
                if re.fullmatch(r"[\d*/,-]+", fields.split()[0])]
    assert examples
    for fields, job in examples:
        assert cron.get(job) == fields, f"README runs {job} at {fields}; deploy/cron at {cron.get(job)}"


def test_each_timer_fires_when_its_cron_line_does() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze (Debian's systemd package) is not installed")
    cron = cron_jobs()
    for job, calendar in timers().items():
        timer_times = calendar_firings(calendar)
        cron_times = [t for t in cron_firings(cron[job], FIRINGS + 1) if t > BASE or timer_times[0] == BASE]
        assert timer_times == cron_times[:FIRINGS], f"{job}: {calendar} and {cron[job]} fire at different times"


def test_systemd_and_cron_run_a_nightly_full_sync_beside_the_incremental_ones() -> None:
    assert {"hvc sync", "hvc sync --full"} <= set(cron_jobs()) & set(timers())
