"""Payloads from public Wonde sources (see payloads/README.md) through the client and the adapter.

Each file names its source in ``_source``; the test asserts what the pupil record then holds: the ids kept
apart, the UPN from ``education_details``, a current child protection plan, unknown flags left unknown,
ranked SEN, medical notes from the relation, the one attendance summary, and withheld contacts.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx
from tenacity import wait_none

from hv_connector.builtin.wonde_adapter import WondeConnections
from hv_connector.clients.wonde.client import WondeClient
from hv_connector.config.settings import SchoolSettings, WondeSettings
from hv_connector.sync.records import Departure, PupilRecord

PAYLOADS = Path(__file__).parent / "payloads"
BASE = "https://api.wonde.test/v1.0"
SCHOOL = "A1930499544"
TODAY = date(2026, 11, 23)


def payload(name: str) -> Any:
    body = json.loads((PAYLOADS / name).read_text())
    assert body["_source"], f"{name} must name its source"
    return body


def mock_wonde(router: respx.MockRouter, student_pages: list[str]) -> respx.Route:
    router.get(f"{BASE}/schools/{SCHOOL}").respond(json=payload("school.json"))
    router.get(f"{BASE}/meta/schools/{SCHOOL}/permissions").respond(json=payload("permissions.json"))
    router.get(url__regex=rf"{re.escape(BASE)}/schools/{SCHOOL}/deletions/?").respond(json=payload("deletions.json"))
    pages = [payload(name) for name in student_pages]

    def students(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        return httpx.Response(200, json=pages[number - 1])

    return router.get(url__regex=rf"{re.escape(BASE)}/schools/{SCHOOL}/students/?").mock(side_effect=students)


async def read_school(student_pages: list[str]) -> tuple[dict[str, PupilRecord], list[Any], respx.Route]:
    settings = SimpleNamespace(wonde=WondeSettings(token="0" * 40, base_url=BASE, requests_per_second=50))
    school = SchoolSettings(id="testing", name="Testing", policy="potton", mis_school_id=SCHOOL)
    factory = WondeConnections(make_client=lambda *a, **k: WondeClient(*a, **{**k, "wait": wait_none()}),
                               today=lambda: TODAY)
    with respx.mock(assert_all_called=False) as router:
        route = mock_wonde(router, student_pages)
        found: dict[str, PupilRecord] = {}
        left: list[Any] = []
        async with factory(settings, school) as adapter:
            async for batch in adapter.pupils(None):
                found.update({r.mis_id: r for r in batch if isinstance(r, PupilRecord)})
            async for leavers in adapter.departures(None):
                left += leavers
    return found, left, route


@pytest.mark.parametrize("pages", [["students-page-1.json", "students-page-2.json"], ["students-single.json"]],
                         ids=["two pages, next without include", "one page, no meta"])
def test_the_public_payloads_make_the_pupil_record_the_briefing_needs(pages: list[str]) -> None:
    found, left, route = asyncio.run(read_school(pages))
    tam = found["A1749191433"]
    assert (tam.native_id, tam.upi, tam.upn) == ("9919", "8d444684b7aa79bc97f8594a4aab7ce3", "X000000000011")
    assert tam.display_name == "Tam Example" and tam.date_of_birth == date(2010, 2, 11)
    assert tam.year_group == "11" and tam.address_text == "4 Example Lane, Exampleton, XX1 1XX"
    mother, father = tam.contacts
    assert (mother.parental_responsibility, mother.lives_with_pupil) == (True, True)
    assert (father.parental_responsibility, father.lives_with_pupil) == (None, None)  # not shared, not "no"
    assert mother.phones == ("07700 900555",)
    assert [a.kind for a in tam.alerts] == ["child-protection-plan"]  # care ended in 2020: no alert
    assert "since 02 Mar 2026" in tam.alerts[0].text
    assert [s.need for s in tam.sen] == ["rank 1: Speech, language and communication needs (SLCN)",
                                         "rank 2: Social, emotional and mental health (SEMH)"]
    assert [m.description for m in tam.medical] == ["Asthma — Inhaler kept in the school office."]
    [summary] = tam.attendance
    assert (summary.possible, summary.attended, summary.authorised, summary.unauthorised) == (120, 100, 12, 8)
    assert tam.gaps == {}
    if len(pages) == 2:
        sam = found["A1749191434"]
        assert sam.upn == "X000000000012" and sam.contacts == () and sam.gaps == {"contacts": "withheld"}
        assert sam.alerts == () and sam.sen == ()
        second = route.calls[1].request.url
        assert "include" in second.params and second.params["page"] == "2"  # the includes put back on `next`
        assert route.call_count == 2
    assert left == [Departure(mis_id="A1749191499", kind="pupil", at=left[0].at)]


def test_the_public_school_fixture_reads_as_a_school() -> None:
    async def fetch() -> dict[str, Any]:
        with respx.mock() as router:
            router.get(f"{BASE}/schools/{SCHOOL}").respond(json=payload("school.json"))
            async with WondeClient("0" * 40, base_url=BASE, wait=wait_none()) as client:
                return await client.school(SCHOOL)

    school = asyncio.run(fetch())
    assert school["timezone"] == "Europe/London" and school["region"]["domain"] == "api.wonde.com"
