"""The Wonde adapter against the fake Wonde, over loopback, under every setting of the fake's uncertain facts.

wonde.md §0 lists what is known of Wonde's real payloads; each fact that is not certain is a switch of the
fake, and the pupil records must come out right under every setting of every switch.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from hv_connector.builtin.wonde_adapter import WondeConnections
from hv_connector.clients.wonde.client import WondeClient
from hv_connector.clock import FixedClock
from hv_connector.config.settings import SchoolSettings, WondeSettings
from hv_connector.read.briefing import pupil_briefing
from hv_connector.store import Store
from hv_connector.store.schema import pupil_sen, pupils, visits
from hv_connector.sync.pipeline import sync_schools
from hv_connector.sync.records import PupilRecord
from hvc_fixtures import data
from hvc_fixtures.serve import RunningServer

AS_OF = date(2026, 11, 20)
"""The day the briefing is read: attendance figures run to it."""

TODAY = date(2026, 11, 23)
CLOCK = FixedClock(datetime(2026, 11, 23, 9, tzinfo=timezone.utc))
COURT_ORDER_PUPIL = data.COURT_ORDER_BLOCK * data.BLOCK  # pupil 12: an open child protection plan, a court order
SCHOOL = "potton"


def connections(server: RunningServer, per_page: int = 200) -> tuple[WondeConnections, Any, SchoolSettings]:
    settings = SimpleNamespace(wonde=WondeSettings(token="test-token", base_url=server.api, requests_per_second=50))
    school = SchoolSettings(id=SCHOOL, name="Potton", policy="potton", mis_school_id=data.school(SCHOOL).wonde_id)
    make = functools.partial(WondeClient, per_page=per_page, attempts=2)
    return WondeConnections(make_client=make, today=lambda: TODAY), settings, school


async def _walk(server: RunningServer, per_page: int) -> dict[str, PupilRecord]:
    factory, settings, school = connections(server, per_page)
    found: dict[str, PupilRecord] = {}
    async with factory(settings, school) as adapter:
        async for batch in adapter.pupils(None):
            found.update({item.mis_id: item for item in batch if isinstance(item, PupilRecord)})
    return found


def walk(server: RunningServer, per_page: int = 200) -> dict[str, PupilRecord]:
    return asyncio.run(_walk(server, per_page))


def sync(server: RunningServer, store: Store, *, full: bool = False) -> Any:
    factory, settings, school = connections(server, per_page=25)
    [result] = asyncio.run(sync_schools(store, [("wonde", factory(settings, school))], full=full, clock=CLOCK))
    return result


def first_with(fake: Any, has: Any) -> data.Pupil:
    return next(p for p in fake.data.pupils(SCHOOL) if has(p))


SWITCHES: list[dict[str, Any]] = [
    {},
    {"per_page_as_string": False},
    {"meta_on_single_page": True},
    {"next_keeps_include": False},
    {"court_order_flag": True},
    {"unshared_flags": ["parental_responsibility", "lives_with_pupil"]},
    {"sen_shape": "flat"},
    {"condition_notes": "text"},
    {"note_text_key": "text"},
    {"note_text_key": "description"},
    {"dob_shape": "date"},
    {"permissions_status": 404},
    {"permissions_status": 403},
    {"denied_scopes": ["medical"]},
    {"denied_scopes": ["attendance", "sen"]},
    {"permission_names": "includes"},
    {"permission_names": "includes", "denied_scopes": ["medical", "attendance", "sen"]},
]


@pytest.mark.parametrize("per_page", [200, 25], ids=["one page", "pages"])
@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default")
def test_the_adapter_reads_the_pupil_right_under_every_setting_of_the_fake(
        wonde_server: RunningServer, switches: dict[str, Any], per_page: int) -> None:
    fake = wonde_server.fake
    fake.configure(**switches)
    records = walk(wonde_server, per_page)
    assert len(records) == 60
    pupil = fake.data.pupil(SCHOOL, COURT_ORDER_PUPIL)
    record = records[pupil.id]
    # Identifiers kept apart, the UPN from education_details, the DOB whatever its shape.
    assert (record.native_id, record.upi, record.upn) == (pupil.mis_id, pupil.upi, pupil.upn)
    assert record.date_of_birth == pupil.date_of_birth
    assert "child-protection-plan" in [a.kind for a in record.alerts]
    denied = set(switches.get("denied_scopes", ()))
    # Court orders: an alert only when the feed carries the flag; its terms are never in the feed.
    orders = [a for a in record.alerts if a.kind == "court-order"]
    assert bool(orders) == bool(switches.get("court_order_flag"))
    assert all("not available from the MIS" in a.text for a in orders)
    unshared = set(switches.get("unshared_flags", ()))
    for contact in record.contacts:
        if "parental_responsibility" in unshared:
            assert contact.parental_responsibility is None  # unknown, never "no"
        else:
            assert contact.parental_responsibility is not None
    sen_pupil = records[first_with(fake, lambda p: p.sen_needs).id]
    medical_pupil = records[first_with(fake, lambda p: p.medical_conditions).id]
    condition = fake.data.pupil(SCHOOL, first_with(fake, lambda p: p.medical_conditions).index).medical_conditions[0]
    if "sen" in denied:
        assert sen_pupil.sen == () and sen_pupil.gaps["sen"] == "withheld"
    else:
        assert sen_pupil.sen and fake.data.pupil(SCHOOL, first_with(fake, lambda p: p.sen_needs).index) \
            .sen_needs[0].description in sen_pupil.sen[0].need
    if "medical" in denied:
        assert medical_pupil.medical == () and medical_pupil.gaps["medical"] == "withheld"
    else:
        assert medical_pupil.medical[0].description == f"{condition.description} — {condition.notes}"
    if "attendance" in denied:
        assert record.attendance == () and record.gaps["attendance"] == "withheld"
    else:
        assert record.attendance[0].period == "summary" and record.attendance[0].possible > 0
    if not denied:
        assert record.gaps == {}


def test_a_page_that_lacks_an_include_fails_the_school_before_any_row_is_replaced(
        wonde_server: RunningServer, tmp_path: Any) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hvc.db'}")
    assert sync(wonde_server, store).ok

    def sen_rows() -> int:
        with store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(pupil_sen)).scalar_one())

    before = sen_rows()
    assert before > 0
    wonde_server.fake.configure(dropped_includes=["sen_needs"])
    result = sync(wonde_server, store, full=True)
    assert not result.ok
    assert "lacks sen_needs" in result.message and "nothing of school" in result.message
    assert sen_rows() == before


def test_a_next_link_that_drops_include_is_followed_with_the_includes_put_back(
        wonde_server: RunningServer) -> None:
    wonde_server.fake.configure(next_keeps_include=False)
    records = walk(wonde_server, per_page=25)
    assert all(r.gaps == {} for r in records.values())
    # Three pages, three requests: the includes went back on the link rather than costing a second ask.
    assert wonde_server.fake.stats.snapshot()["by_resource"]["students"] == 3


def test_a_school_that_changes_mis_keeps_every_pupils_visits(wonde_server: RunningServer, tmp_path: Any) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hvc.db'}")
    assert sync(wonde_server, store).ok
    pupil = wonde_server.fake.data.pupil(SCHOOL, COURT_ORDER_PUPIL)
    then = datetime(2026, 10, 5, 15, tzinfo=timezone.utc)
    with store.begin() as conn:
        conn.execute(insert(visits).values(
            id="v-before-the-move", school_id=SCHOOL, pupil_mis_id=pupil.id, state="reported", planned_start=then,
            address_text="x", reason="attendance", staff_ids=[], version=1, created_at=then, updated_at=then,
            data={}))
    wonde_server.fake.configure(mis_generation=1)  # SIMS → Arbor: new Wonde ids, MIS ids and UPIs; same UPNs
    result = sync(wonde_server, store, full=True)
    assert result.ok and (result.added, result.archived) == (0, 0)
    with store.connect() as conn:
        rows = conn.execute(select(pupils).where(pupils.c.school_id == SCHOOL)).mappings().all()
        briefing = pupil_briefing(conn, SCHOOL, pupil.id, AS_OF)
    assert len(rows) == 60 and all(r["archived_at"] is None for r in rows)
    assert all(r["source_id"] != r["mis_id"] for r in rows)  # every pupil re-linked, none re-added
    assert briefing.native_id == f"M1-{pupil.mis_id}" and briefing.upn == pupil.upn
    assert briefing.source_id != pupil.id and briefing.mis_id == pupil.id
    assert "child-protection-plan" in [a.kind for a in briefing.alerts]
    with store.connect() as conn:
        assert conn.execute(select(visits.c.pupil_mis_id)).scalar_one() == pupil.id
    # A later incremental sync finds them by their new ids.
    again = sync(wonde_server, store)
    assert again.ok and again.added == 0
