"""Session marks from the fake Wonde, through the real client, adapter, sync and store.

The parameters that limit marks to a range of days are unverified in Wonde, so the fake's
``session_day_filters`` switch is run through every setting: the marks stored must be the same; so is
``register_shape`` (how a mark names its pupil and code).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from hv_connector.builtin.wonde_adapter import WondeConnections
from hv_connector.builtin.wonde_register import register_pages
from hv_connector.cli import main
from hv_connector.clients.wonde.client import WondeClient
from hv_connector.clock import LONDON, FixedClock
from hv_connector.config.settings import Settings
from hv_connector.store import Store
from hv_connector.store.schema import pupil_session_marks
from hv_connector.sync.attendance import MarkDays, SessionMark
from hv_connector.sync.pipeline import SchoolResult, sync_school
from hv_connector.sync.store import MarkRows, write_marks
from hvc_fixtures import config as toml_config
from hvc_fixtures import data
from hvc_fixtures.serve import RunningServer
from hvc_fixtures.wonde_attendance import DAY_FILTERS, mark_code, school_days
from tests.clockkit import CommandClock

POTTON = data.school("potton")
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 20)  # one school week
SIZE = 14  # pupils per school: the low-attendance pupil is the 14th


@pytest.fixture
def wonde(make_wonde_server: Callable[..., RunningServer]) -> RunningServer:
    """A small fake Wonde (14 pupils a school) whose register is marked every school day since September 2025."""
    return make_wonde_server(seed=1, pupils=SIZE, marks_days=None)


async def _marks(server: RunningServer, day_filters: tuple[str, str], since: datetime | None = None
                 ) -> tuple[list[Any], int]:
    async with WondeClient("test-token", base_url=server.api, requests_per_second=0, per_page=100) as client:
        got = [m async for page in register_pages(client, POTTON.wonde_id, FIRST, LAST, since, day_filters)
               for m in page]
        return got, client.requests


@pytest.mark.parametrize("setting", list(DAY_FILTERS))
def test_marks_for_the_days_asked_whatever_day_filters_wonde_honours(wonde: RunningServer,
                                                                      setting: str) -> None:
    wonde.fake.configure(session_day_filters=setting)
    marks, _ = asyncio.run(_marks(wonde, ("start_date", "end_date")))
    assert all(isinstance(m, SessionMark) for m in marks)
    assert len(marks) == 5 * SIZE * 2  # every pupil, AM and PM, Monday to Friday, and nothing else
    assert {m.day for m in marks} == {FIRST + timedelta(days=d) for d in range(5)}
    pupil = data.Dataset(1, SIZE).id(data.STUDENT, POTTON, data.LOW_ATTENDANCE_PUPIL)
    day = school_days().index(FIRST)
    mine = {m.session: m for m in marks if m.pupil_mis_id == pupil and m.day == FIRST}
    assert mine["AM"].code == mark_code(1, POTTON, data.LOW_ATTENDANCE_PUPIL, day, 0)


def test_marks_whose_pupil_and_code_come_as_relations_read_the_same(wonde: RunningServer) -> None:
    as_ids, _ = asyncio.run(_marks(wonde, ("start_date", "end_date")))
    wonde.fake.configure(register_shape="relations")
    as_relations, _ = asyncio.run(_marks(wonde, ("start_date", "end_date")))
    assert as_relations == as_ids and len(as_ids) == 5 * SIZE * 2


def test_matching_day_filters_fetch_only_those_days(wonde: RunningServer) -> None:
    wonde.fake.configure(session_day_filters="date_after/date_before")
    _, unmatched = asyncio.run(_marks(wonde, ("start_date", "end_date")))
    _, matched = asyncio.run(_marks(wonde, ("date_after", "date_before")))
    assert matched == 1 + 2  # the codes, then 140 marks at 100 a page
    assert unmatched > matched


def test_each_code_reads_with_its_dfe_meaning(wonde: RunningServer) -> None:
    marks, _ = asyncio.run(_marks(wonde, ("start_date", "end_date")))
    meanings = {(m.code, m.meaning) for m in marks}
    assert ("/", "present") in meanings and ("\\", "present") in meanings
    assert {meaning for code, meaning in meanings if code == "O"} <= {"unauthorised"}
    assert {meaning for code, meaning in meanings if code == "I"} <= {"authorised"}
    assert not {meaning for _, meaning in meanings} - {"present", "educational", "authorised", "unauthorised"}


def _sync(server: RunningServer, store: Store, today: date, *, full: bool) -> Any:
    settings = Settings(wonde={"token": "test-token", "base_url": server.api, "requests_per_second": 1000},
                        schools=[{"id": "potton", "name": "Potton", "policy": "potton", "mis_school_id": POTTON.wonde_id}])
    adapter = WondeConnections()(settings, settings.school("potton"))
    clock = FixedClock(datetime(today.year, today.month, today.day, 18, 0, tzinfo=LONDON))
    return asyncio.run(sync_school(store, adapter, adapter_name="wonde", full=full, clock=clock, write_lock=asyncio.Lock()))


def _stored(store: Store, pupil: str, day: date) -> dict[str, str]:
    with store.connect() as conn:
        rows = conn.execute(select(pupil_session_marks.c.session, pupil_session_marks.c.code)
                            .where(pupil_session_marks.c.pupil_mis_id == pupil, pupil_session_marks.c.day == day))
        return dict(rows.all())


def test_a_mark_corrected_in_the_mis_is_corrected_by_the_next_incremental_sync(wonde: RunningServer,
                                                                             store: Store) -> None:
    today = date(2026, 11, 23)
    assert _sync(wonde, store, today, full=False).ok
    with store.connect() as conn:
        days = {d for (d,) in conn.execute(select(pupil_session_marks.c.day).distinct())}
    assert min(days) == date(2026, 7, 6) and max(days) == data.TODAY  # 10 school weeks may reach back into July
    pupil = data.Dataset(1, SIZE).id(data.STUDENT, POTTON, 4)
    wonde.fake.register.amend("potton", 4, date(2026, 11, 18), "AM", "N")
    wonde.fake.reset_stats()
    result = _sync(wonde, store, today, full=False)
    assert result.ok
    assert _stored(store, pupil, date(2026, 11, 18))["AM"] == "N"
    assert wonde.fake.stats.snapshot()["by_resource"]["attendance"] == 1  # only what changed


def test_a_sync_just_after_midnight_in_summer_reads_the_register_to_the_london_day(wonde: RunningServer,
                                                                                  store: Store) -> None:
    settings = Settings(wonde={"token": "test-token", "base_url": wonde.api, "requests_per_second": 1000},
                        schools=[{"id": "potton", "name": "Potton", "policy": "potton", "mis_school_id": POTTON.wonde_id}])
    clock = FixedClock(datetime(2026, 6, 15, 23, 30, tzinfo=timezone.utc))  # 00:30 BST on Tuesday 16 June
    adapter = WondeConnections()(settings, settings.school("potton"))
    assert asyncio.run(sync_school(store, adapter, adapter_name="wonde", full=True, clock=clock,
                                   write_lock=asyncio.Lock())).ok
    with store.connect() as conn:
        last = conn.execute(select(func.max(pupil_session_marks.c.day))).scalar_one()
    assert last == date(2026, 6, 16)  # not the 15th, the UTC date


def test_a_session_the_mis_gives_twice_on_a_page_keeps_the_later_mark(store: Store) -> None:
    result = SchoolResult(POTTON.slug, datetime(2026, 11, 20, 18, tzinfo=LONDON))
    monday = FIRST.toordinal()
    page = MarkRows(rows=[("A1", monday, "AM", "N", "unauthorised"), ("A1", monday, "PM", "/", "present"),
                          ("A1", monday, "AM", "L", "present"), ("A1", monday - 1, "AM", "N", "unauthorised")])
    with store.begin() as conn:
        write_marks(conn, POTTON.slug, page, MarkDays(FIRST, LAST, replace=True), result, result.started_at)
    with store.connect() as conn:
        rows = conn.execute(select(pupil_session_marks.c.day, pupil_session_marks.c.session, pupil_session_marks.c.code)
                            .order_by(pupil_session_marks.c.session)).all()
    assert [tuple(row) for row in rows] == [(FIRST, "AM", "L"), (FIRST, "PM", "/")]  # the Sunday before: not asked


def test_a_full_sync_drops_marks_the_mis_no_longer_has(wonde: RunningServer, store: Store) -> None:
    assert _sync(wonde, store, date(2026, 11, 23), full=True).ok
    wonde.fake.configure(marks_until=date(2026, 11, 19))  # the MIS took the 20th's registers away
    assert _sync(wonde, store, date(2026, 11, 23), full=True).ok
    with store.connect() as conn:
        last = conn.execute(select(pupil_session_marks.c.day).order_by(pupil_session_marks.c.day.desc())).first()
    assert last is not None and last.day == date(2026, 11, 19)


def test_marks_older_than_any_figure_reads_are_dropped(wonde: RunningServer, store: Store) -> None:
    assert _sync(wonde, store, date(2026, 11, 23), full=True).ok
    assert _sync(wonde, store, date(2027, 2, 1), full=False).ok  # months later: 10 weeks reach mid-Sept
    with store.connect() as conn:
        first = conn.execute(select(pupil_session_marks.c.day).order_by(pupil_session_marks.c.day)).first()
    assert first is not None and first.day >= date(2026, 9, 1)


def test_pupil_show_gives_the_figures_from_the_register_and_says_when_there_is_none(
        wonde: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml_config.write_config(tmp_path / "hvc.toml", toml_config.schools_config(
        database=tmp_path / "hvc.db", wonde=wonde, token="test-token", wonde_options={"requests_per_second": 1000},
        schools=["potton"], school_options=lambda sch: {}))
    clock = CommandClock(monkeypatch, datetime(2026, 11, 23, 18, 0, tzinfo=LONDON))

    def hvc(*args: str) -> int:
        with clock.command():
            return main(["--config", str(tmp_path / "hvc.toml"), *args])

    assert hvc("sync") == 0
    capsys.readouterr()
    low = data.Dataset(1, SIZE).id(data.STUDENT, POTTON, data.LOW_ATTENDANCE_PUPIL)
    assert hvc("pupil", "show", low, "--json") == 0
    figures = json.loads(capsys.readouterr().out)["attendance"]
    assert figures["as_of"] == "2026-11-23" and figures["year_from"] == "2026-09-01"
    assert figures["last_3_months"]["attendance"] < 70 and figures["persistent_absence"]
    assert hvc("pupil", "show", low) == 0
    text = capsys.readouterr().out
    assert "Attendance from the register, as of 23 Nov 2026:" in text
    assert "School year since 1 September:" in text and "ABSENCE" in text and "Last 3 months:" in text

    with Store.open(f"sqlite:///{tmp_path}/hvc.db").begin() as conn:
        conn.execute(delete(pupil_session_marks).where(pupil_session_marks.c.pupil_mis_id == low))
    assert hvc("pupil", "show", low) == 0
    assert "Register: not available from the MIS" in capsys.readouterr().out


def test_a_school_that_withholds_its_register_still_syncs_its_pupils_and_says_so(wonde: RunningServer,
                                                                                 store: Store) -> None:
    assert _sync(wonde, store, date(2026, 11, 23), full=True).ok
    wonde.fake.inject(status=403, path="/attendance/session", count=None)
    result = _sync(wonde, store, date(2026, 11, 23), full=False)
    assert result.ok and "has not shared its register" in result.message
    with store.connect() as conn:
        assert conn.execute(select(pupil_session_marks.c.day)).first() is None  # no stale figures left behind
