"""The Wonde client against respx-mocked HTTP: paging, includes, retries and the errors users see."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import httpx
import pytest
import respx
from tenacity import wait_none

from hv_connector.clients.wonde.client import STUDENT_INCLUDES, WondeClient, decode_json
from hv_connector.clients.wonde.payloads import MISSING, Contact, Deletion, Student
from hv_connector.errors import MisAuthError, MisError, MisUnavailable

BASE = "https://api.wonde.test/v1.0/"
SCHOOL = "A1930499544"
STUDENTS = f"{BASE}schools/{SCHOOL}/students"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def page(records: list[dict], *, next_url: str | None = None, more: bool | None = None) -> dict:
    more = bool(next_url) if more is None else more
    return {"data": records, "meta": {"pagination": {"next": next_url, "previous": None, "more": more,
                                                     "per_page": "2", "current_page": 1}}}


def student(n: int, **fields) -> dict:
    return {"id": f"A{n:010d}", "forename": f"Pupil{n}", "surname": "Example", **fields}


def client(**kwargs) -> WondeClient:
    kwargs.setdefault("wait", wait_none())
    kwargs.setdefault("requests_per_second", 0)
    return WondeClient(TOKEN, base_url=BASE, **kwargs)


async def collect(wonde: WondeClient, **kwargs) -> list[dict]:
    kwargs.setdefault("include", ())  # these records carry no includes; asking for some would refuse their pages
    return [record async for p in wonde.students(SCHOOL, **kwargs) for record in p.records]


@respx.mock
async def test_pages_are_followed_until_more_is_false() -> None:
    respx.get(STUDENTS, params={"page": "2"}).respond(json=page([student(3)], next_url=f"{STUDENTS}?page=3",
                                                                more=False))
    first = respx.get(STUDENTS).respond(json=page([student(1), student(2)], next_url=f"{STUDENTS}?page=2"))
    async with client() as wonde:
        records = await collect(wonde)
    assert [r["id"] for r in records] == ["A0000000001", "A0000000002", "A0000000003"]
    assert wonde.requests == 2
    assert first.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"


@respx.mock
async def test_an_empty_next_link_ends_the_walk_even_if_more_says_otherwise() -> None:
    respx.get(STUDENTS).respond(json=page([student(1)], next_url="", more=True))
    async with client() as wonde:
        assert len(await collect(wonde)) == 1
    assert wonde.requests == 1


@respx.mock
async def test_the_first_request_asks_for_every_include_the_briefing_needs_and_the_cursor() -> None:
    route = respx.get(STUDENTS).respond(json=page([]))
    async with client() as wonde:
        await collect(wonde, since=datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc), include=STUDENT_INCLUDES)
    params = route.calls[0].request.url.params
    assert params["include"].split(",") == list(STUDENT_INCLUDES)
    assert {"contacts", "contacts.contact_details", "medical_conditions", "sen_needs"} <= set(STUDENT_INCLUDES)
    assert params["updated_after"] == "2026-11-20 07:30:00"
    assert params["per_page"] == "200"


def test_an_included_student_parses_with_php_dates_and_either_relationship_shape() -> None:
    raw = student(
        1,
        date_of_birth={"date": "2015-03-01 23:30:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
        updated_at={"date": "2026-06-01 09:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
        contacts={"data": [
            {"id": "C1", "relationship": {"relationship": "Mother", "parental_responsibility": True, "priority": 1},
             "contact_details": {"data": {"phones": {"mobile": "07700 900123", "home": None}}}},
            {"id": "C2", "relationship": "Aunt", "contact_details": {"data": None}},
        ]},
        medical_conditions={"data": []},
        sen_needs=None,
    )
    parsed = Student.model_validate(raw)
    assert parsed.updated_at == datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)  # BST read from the object
    assert str(parsed.date_of_birth) == "2015-03-01"
    mother, aunt = (Contact.model_validate(c) for c in parsed.relation("contacts")["data"])
    assert mother.relationship.parental_responsibility is True
    assert mother.relationship.lives_with_pupil is None  # not sent: unknown, not "no"
    assert mother.contact_details.phones.numbers() == ("07700 900123",)
    assert aunt.relationship.relationship == "Aunt" and aunt.contact_details is None
    assert parsed.relation("sen_needs") is None and parsed.relation("attendance_summary") is MISSING


def test_a_deletion_item_is_read_tolerantly() -> None:
    item = Deletion.model_validate({"id": "A0000000009", "type": "student", "restored_at": None,
                                    "created_at": {"date": "2026-11-01 10:00:00.000000", "timezone": "UTC"}})
    assert item.at == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)


FAILURES = {
    "503": lambda: httpx.Response(503),
    "500": lambda: httpx.Response(500),
    "429": lambda: httpx.Response(429),
    "423": lambda: httpx.Response(423),
    "connect error": lambda: httpx.ConnectError("refused"),
    "read timeout": lambda: httpx.ReadTimeout("slow"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("times", [1, 2, 4])
@respx.mock
async def test_a_transient_failure_is_retried_until_it_succeeds(failure: str, times: int) -> None:
    outcomes = [FAILURES[failure]() for _ in range(times)] + [httpx.Response(200, json=page([student(1)]))]
    respx.get(STUDENTS).mock(side_effect=outcomes)
    async with client(attempts=5) as wonde:
        assert len(await collect(wonde)) == 1
    assert wonde.requests == times + 1


@respx.mock
async def test_retries_give_up_with_the_last_error() -> None:
    respx.get(STUDENTS).respond(503)
    async with client(attempts=3) as wonde:
        with pytest.raises(MisUnavailable, match=f"school {SCHOOL}"):
            await collect(wonde)
    assert wonde.requests == 3


@respx.mock
async def test_429_waits_as_long_as_retry_after_says() -> None:
    respx.get(STUDENTS).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}),
                                          httpx.Response(503),
                                          httpx.Response(200, json=page([student(1)]))])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with WondeClient(TOKEN, base_url=BASE, requests_per_second=0, sleep=sleep) as wonde:
        await collect(wonde)
    assert slept[0] == 7.0
    assert 0 < slept[1] < 7.0  # no hint: the client's own back-off


@respx.mock
async def test_a_retry_after_longer_than_the_limit_fails_the_school_for_the_next_sync() -> None:
    route = respx.get(STUDENTS).respond(429, headers={"Retry-After": "600"})
    async with client(attempts=5, max_retry_after=30) as wonde:
        with pytest.raises(MisUnavailable, match="rate-limiting") as caught:
            await collect(wonde)
    assert caught.value.retry_after == 600.0
    assert route.call_count == 1  # not hammered again before Wonde said it may be


@respx.mock
async def test_retries_are_logged_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(STUDENTS).mock(side_effect=[httpx.Response(503), httpx.Response(200, json=page([]))])
    with caplog.at_level(logging.WARNING):
        async with client() as wonde:
            await collect(wonde)
    assert f"school {SCHOOL}" in caplog.text and "retry 1" in caplog.text
    assert TOKEN not in caplog.text


@respx.mock
async def test_a_wrong_token_names_the_setting_that_holds_it() -> None:
    respx.get(STUDENTS).respond(401, json={"error": "Unauthenticated."})
    async with client() as wonde:
        with pytest.raises(MisAuthError) as caught:
            await collect(wonde)
    assert "HVC_WONDE__TOKEN" in str(caught.value) and TOKEN not in str(caught.value)
    assert wonde.requests == 1  # not retried


@pytest.mark.parametrize("status", [403, 404])
@respx.mock
async def test_a_school_that_revoked_approval_is_told_to_re_approve(status: int) -> None:
    respx.get(STUDENTS).respond(status)
    async with client() as wonde:
        with pytest.raises(MisAuthError, match=f"school {SCHOOL} .*re-approve hv-connector in its Wonde portal"):
            await collect(wonde)


@respx.mock
async def test_a_422_carries_wondes_reasons() -> None:
    respx.get(STUDENTS).respond(422, json={"error": "validation_error", "error_description": "invalid include"})
    async with client() as wonde:
        with pytest.raises(MisError, match="invalid include"):
            await collect(wonde)


@respx.mock
async def test_a_refusal_s_words_are_data_a_carriage_return_or_escape_in_them_cannot_forge_a_line() -> None:
    respx.get(STUDENTS).respond(422, text="invalid include\r2026-11-20 sync ok\x1b[2J\u202e")
    async with client() as wonde:
        with pytest.raises(MisError) as caught:
            await collect(wonde)
    assert "invalid include\\x0d2026-11-20 sync ok\\x1b[2J\\u202e" in str(caught.value)
    assert not any(ord(char) < 0x20 or char == "\u202e" for char in str(caught.value))


@respx.mock
async def test_a_200_that_is_not_json_is_an_error() -> None:
    respx.get(STUDENTS).respond(200, text="<html>Sign in to the hotel wifi</html>",
                                headers={"content-type": "text/html"})
    async with client() as wonde:
        with pytest.raises(MisError, match="not JSON"):
            await collect(wonde)


@respx.mock
async def test_a_page_without_a_list_of_records_is_an_error() -> None:
    respx.get(STUDENTS).respond(json={"data": {"id": "A1"}})
    async with client() as wonde:
        with pytest.raises(MisError, match="no list of records"):
            await collect(wonde)


@respx.mock
async def test_a_next_link_to_another_host_is_not_followed() -> None:
    respx.get(STUDENTS).respond(json=page([student(1)], next_url="https://evil.example/v1.0/steal?page=2"))
    foreign = respx.get(host="evil.example").respond(json=page([]))
    async with client() as wonde:
        with pytest.raises(MisError, match="another host"):
            await collect(wonde)
    assert not foreign.called


@respx.mock
@pytest.mark.parametrize("link", ["//evil.example/v1.0/steal?page=2", "http://{host}/v1.0/schools/A1/students?page=2"])
async def test_a_next_link_to_another_scheme_or_a_scheme_relative_host_is_not_followed(link: str) -> None:
    # The token goes only where it was first sent: a downgrade to http on the same host would put it on the wire.
    respx.get(STUDENTS).respond(json=page([student(1)], next_url=link.format(host=httpx.URL(BASE).host)))
    elsewhere = respx.get(host="evil.example").respond(json=page([]))
    plain = respx.get(url__regex=r"^http://").respond(json=page([]))
    async with client() as wonde:
        with pytest.raises(MisError, match="another host"):
            await collect(wonde)
    assert not elsewhere.called and not plain.called


@respx.mock
@pytest.mark.parametrize("link", [f"{STUDENTS}?page=2\x1b[2J\x1b[31mFORGED", f"{STUDENTS}?page=2\nFORGED line",
                                  "https://api.wonde.test:port/v1.0/students?page=2"])
async def test_a_next_link_that_is_not_a_url_stops_the_school_with_a_mis_error_showing_the_link_as_data(
        link: str) -> None:
    respx.get(STUDENTS).respond(json=page([student(1)], next_url=link))
    async with client() as wonde:
        with pytest.raises(MisError) as caught:
            await collect(wonde)
    message = str(caught.value)
    assert f"Wonde sent school {SCHOOL} a next-page link hv-connector cannot follow" in message
    assert "FORGED" in message or ":port" in message  # the link is named…
    assert "\x1b" not in message and "\n" not in message  # …as data: no control character reaches a terminal or log
    assert wonde.requests == 1


@respx.mock
async def test_the_school_id_is_escaped_as_one_path_segment() -> None:
    route = respx.get(f"{BASE}schools/A1%2F..%2Fx/students").respond(json=page([]))
    async with client() as wonde:
        [p async for p in wonde.students("A1/../x")]
    assert route.called


@respx.mock
async def test_a_wonde_that_cannot_be_reached_names_the_setting_to_check() -> None:
    route = respx.get(f"{BASE}schools/{SCHOOL}/students").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(MisUnavailable, match=r"could not reach Wonde at .* check `base_url` under \[wonde\]"):
        async with client(attempts=2) as wonde:
            await collect(wonde)
    assert route.call_count == 2


@pytest.mark.parametrize("body", [
    b'{"data": [{"id": "A1", "surname": "Ex\\u00e9mple \\ud83d\\ude00"}]}',
    b'{"data": [{"id": "A1", "surname": "lone \\ud800 surrogate"}]}',
    b'{"data": [{"id": "A1", "big": 1e400}]}',
    '{"data": [{"id": "A1", "surname": "Ex\u00e9mple"}]}'.encode("utf-16"),
])
def test_pages_decode_exactly_as_the_json_module_reads_them(body: bytes) -> None:
    assert repr(decode_json(body)) == repr(json.loads(body))


def test_a_body_that_is_not_json_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_json(b"<html>captive portal</html>")
