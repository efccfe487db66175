"""The CPOMS client against every response class of the contract (respx, no network, no waiting)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx
from pydantic import SecretStr

from hv_connector.clients.cpoms.client import PROBE_REFERENCE, CpomsClient
from hv_connector.clients.cpoms.errors import CpomsRejected, CpomsUnavailable
from hv_connector.clients.cpoms.payloads import IncidentRequest, Source, StudentRef

BASE = "http://cpoms.test/api/v1"
TOKEN = "tok-SECRET-bw-0001"
SETTING = "schools.birchwood.cpoms.token"
KEY = "k" * 64

CATEGORIES = {"data": [
    {"id": 1, "name": "Safeguarding", "parent_id": None, "active": True, "can_add": True},
    {"id": 7, "name": "Home Visit", "parent_id": None, "active": True, "can_add": True},
    {"id": 8, "name": "Integration Tray", "parent_id": None, "active": True, "can_add": False},
    {"id": 9, "name": "Legacy", "parent_id": None, "active": False, "can_add": True},
]}
CREATED = {"id": 41, "status": "recorded", "student_id": 3, "category_ids": [7],
           "created_at": "2026-11-23T10:00:00+00:00", "alerts": [{"staff_email": "dsl@birchwood.example"}]}


def error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": f"fake says {code}.", "request_id": "req-1",
                      "details": [{"field": "student", "issue": code}] if status == 422 else []}}
    return httpx.Response(status, json=body, headers=headers)


class Sleeps(list):
    """Records each back-off instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> CpomsClient:
    return CpomsClient(BASE, SecretStr(TOKEN), school_id="birchwood", token_setting=SETTING,
                       attempts=3, min_wait=0.0, max_wait=0.0, sleep=sleeps)


def request() -> IncidentRequest:
    return IncidentRequest(
        kind="home_visit", student=StudentRef(upn="A123456789012"), category_ids=[7],
        occurred_at=datetime(2026, 11, 20, 10, 15, tzinfo=timezone.utc), description="Visit made.",
        source=Source(record_id="v-1", revision=1),
    )


@respx.mock(base_url=BASE, assert_all_called=False)
async def test_created_sends_key_token_and_body(respx_mock: respx.MockRouter, client: CpomsClient) -> None:
    route = respx_mock.post("/incidents").respond(201, json=CREATED)
    async with client:
        result = await client.create_incident(request(), KEY)
    assert (result.id, result.replayed) == (41, False)
    sent = route.calls.last.request
    assert sent.headers["Idempotency-Key"] == KEY
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(sent.content)
    assert body["source"] == {"system": "hv-connector", "record_id": "v-1", "revision": 1}
    assert "home_visit" not in body  # None fields are left out, not sent as null


@respx.mock(base_url=BASE)
async def test_replay_is_reported_as_already_there(respx_mock: respx.MockRouter, client: CpomsClient) -> None:
    respx_mock.post("/incidents").respond(201, json=CREATED, headers={"Idempotent-Replayed": "true"})
    async with client:
        assert (await client.create_incident(request(), KEY)).replayed is True


@pytest.mark.parametrize(
    ("status", "code", "needle"),
    [
        (400, "idempotency_key_required", "idempotency_key_required"),
        (401, "unauthorized", SETTING),
        (403, "forbidden", "CPOMS admin"),
        (404, "not_found", "not_found"),
        (409, "idempotency_key_reused", "idempotency_key_reused"),
        (413, "payload_too_large", "payload_too_large"),
        (415, "unsupported_media_type", "unsupported_media_type"),
        (422, "student_not_found", "student: student_not_found"),
    ],
)
async def test_refusals_are_not_retried_and_say_why(
    status: int, code: str, needle: str, client: CpomsClient, sleeps: Sleeps
) -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post("/incidents").mock(return_value=error(status, code))
        async with client:
            with pytest.raises(CpomsRejected) as caught:
                await client.create_incident(request(), KEY)
    assert route.call_count == 1 and sleeps == []
    assert needle in str(caught.value) and "req-1" in str(caught.value)
    assert ".." not in str(caught.value)  # CPOMS's sentence and ours join cleanly
    assert TOKEN not in str(caught.value)
    if status == 422:
        assert caught.value.details == [{"field": "student", "issue": "student_not_found"}]


LOST_ANSWERS = pytest.mark.parametrize(
    "failure",
    [error(500, "internal_error"), error(502, "unavailable"), error(503, "unavailable"), error(504, "unavailable"),
     httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("Server disconnected without sending a response.")],
    ids=["500", "502", "503", "504", "read-timeout", "dropped"],
)
"""Failures after which CPOMS may have stored the record: the client asks before it sends again."""


def by_reference(*found: dict[str, object]) -> dict[str, object]:
    """The answer to ``GET /incidents?source_system=hv-connector&source_record_id=v-1``."""
    return {"data": list(found)}


def probe(router: respx.MockRouter, *answered: dict[str, object]) -> respx.Route:
    """The look-up for a reference no record has: nothing from a receiver that filters by reference (register it
    before any catch-all ``GET /incidents``)."""
    return router.get("/incidents", params={"source_system": "hv-connector", "source_record_id": PROBE_REFERENCE}
                      ).respond(200, json=by_reference(*answered))


@pytest.mark.parametrize(
    "failure",
    [error(409, "idempotency_key_in_use"), error(429, "rate_limited"), httpx.ConnectTimeout("no route"),
     httpx.ConnectError("refused")],
    ids=["409-in-use", "429", "connect-timeout", "refused"],
)
@pytest.mark.parametrize("failures", [1, 2])
async def test_failures_before_cpoms_took_the_record_are_retried_with_the_same_key(
    failure: object, failures: int, client: CpomsClient, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post("/incidents").mock(side_effect=[failure] * failures + [httpx.Response(201, json=CREATED)])
        async with client:
            with caplog.at_level(logging.WARNING, logger="hv_connector.clients.retry"):
                result = await client.create_incident(request(), KEY)
    assert result.id == 41
    assert route.call_count == failures + 1
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {KEY}
    retries = [r for r in caplog.records if "CPOMS retry" in r.getMessage()]
    assert len(retries) == failures == len(sleeps)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@LOST_ANSWERS
async def test_after_a_lost_answer_it_asks_by_reference_before_sending_again(failure: object, client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:
        post = router.post("/incidents").mock(side_effect=[failure, httpx.Response(201, json=CREATED)])
        ask = router.get("/incidents", params={"source_system": "hv-connector", "source_record_id": "v-1"}).respond(
            200, json=by_reference())
        async with client:
            result = await client.create_incident(request(), KEY)
        methods = [c.request.method for c in router.calls]
    assert (result.id, result.replayed) == (41, False)
    assert methods == ["POST", "GET", "POST"]  # asked, not there: sent again
    assert post.call_count == 2 and ask.call_count == 1


@LOST_ANSWERS
async def test_a_record_found_after_a_lost_answer_is_never_posted_again(failure: object, client: CpomsClient) -> None:
    stored = {**CREATED, "source": {"system": "hv-connector", "record_id": "v-1", "revision": 1}}
    with respx.mock(base_url=BASE) as router:
        post = router.post("/incidents").mock(side_effect=[failure, httpx.Response(201, json=CREATED)])
        router.get("/incidents").respond(200, json=by_reference(stored))
        async with client:
            result = await client.create_incident(request(), KEY)
    assert (result.id, result.replayed) == (41, True)  # already there
    assert post.call_count == 1


async def test_an_earlier_revision_found_by_reference_does_not_count_as_this_one(client: CpomsClient) -> None:
    first = {**CREATED, "id": 40, "source": {"system": "hv-connector", "record_id": "v-1", "revision": 1}}
    revised = request().model_copy(update={"source": Source(record_id="v-1", revision=2)})
    with respx.mock(base_url=BASE) as router:
        post = router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=CREATED)])
        router.get("/incidents").respond(200, json=by_reference(first))
        async with client:
            result = await client.create_incident(revised, KEY)
    assert (result.id, result.replayed, post.call_count) == (41, False, 2)


async def test_a_failed_look_up_is_asked_again_not_answered_by_a_post(client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:
        post = router.post("/incidents").mock(side_effect=[httpx.RemoteProtocolError("dropped")])
        probe(router)  # a receiver that filters by reference: its reference-less row is ours
        router.get("/incidents").mock(side_effect=[error(503, "unavailable"), httpx.Response(200, json=by_reference(CREATED))])
        async with client:
            result = await client.create_incident(request(), KEY)
    assert (result.id, result.replayed, post.call_count) == (41, True, 1)


SOMEONE_ELSES = {**CREATED, "id": 39, "student_id": 8}
"""An incident of the school's that carries no reference of ours (another record's, a person's, a partner's)."""


@pytest.mark.parametrize("filters", [True, False], ids=["receiver-filters", "receiver-ignores-the-reference"])
async def test_a_row_without_our_reference_is_taken_as_ours_only_when_the_receiver_filters(
    filters: bool, client: CpomsClient
) -> None:
    with respx.mock(base_url=BASE) as router:
        post = router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=CREATED)])
        asked = probe(router, *([] if filters else [SOMEONE_ELSES]))
        router.get("/incidents").respond(200, json=by_reference(SOMEONE_ELSES))
        async with client:
            result = await client.create_incident(request(), KEY)
            again = await client.find_incident("v-1", 1)
    if filters:  # only v-1's incidents came back, so this one is v-1, stored by the POST whose answer was lost
        assert (result.id, result.replayed, result.doubt, post.call_count) == (39, True, None, 1)
        assert again is not None and again.id == 39
    else:  # it may be anyone's: taking it would mark v-1 sent though it may never have arrived
        assert (result.id, result.replayed, post.call_count) == (41, False, 2)
        assert result.doubt is not None and "'v-1' twice" in result.doubt and "second copy" in result.doubt
        assert again is None
    assert asked.call_count == 1  # asked once per client, however many look-ups follow


async def test_a_corrected_record_is_never_taken_for_a_reference_less_row_the_filter_cannot_tell_apart(
    client: CpomsClient,
) -> None:
    revised = request().model_copy(update={"source": Source(record_id="v-1", revision=2)})
    earlier = {**CREATED, "id": 40}  # v-1's first revision, stored before: the filter answers it for v-1 too
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        post = router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=CREATED)])
        probe(router)  # a receiver that filters by reference, by record only (asked or not)
        router.get("/incidents").respond(200, json=by_reference(earlier))
        async with client:
            result = await client.create_incident(revised, KEY)
    # Taking revision 1's incident as revision 2 would mark the correction sent though it never arrived.
    assert (result.id, result.replayed, post.call_count) == (41, False, 2)
    assert result.doubt is not None and "revision 2" in result.doubt and "second copy" in result.doubt


@pytest.mark.parametrize("revision", [1, 2])
async def test_a_reference_read_back_without_its_revision_is_ours_for_a_first_revision_only(
    revision: int, client: CpomsClient,
) -> None:
    sent = request().model_copy(update={"source": Source(record_id="v-1", revision=revision)})
    named = {**CREATED, "id": 40, "source": {"system": "hv-connector", "record_id": "v-1"}}  # no revision kept
    with respx.mock(base_url=BASE) as router:  # no probe: the row's own reference names the record
        post = router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=CREATED)])
        router.get("/incidents").respond(200, json=by_reference(named))
        async with client:
            result = await client.create_incident(sent, KEY)
    if revision == 1:  # nothing before a first revision to mistake it for: it is the send whose answer was lost
        assert (result.id, result.replayed, result.doubt, post.call_count) == (40, True, None, 1)
    else:  # it may be revision 1, which this one corrects: sent again, the possible duplicate said
        assert (result.id, result.replayed, post.call_count) == (41, False, 2)
        assert result.doubt is not None and "revision 2" in result.doubt


async def test_a_receiver_that_ignores_the_reference_but_echoes_it_is_matched_by_the_reference(
    client: CpomsClient,
) -> None:
    ours = {**CREATED, "source": {"system": "hv-connector", "record_id": "v-1", "revision": 1}}
    other = {**CREATED, "id": 40, "source": {"system": "hv-connector", "record_id": "v-0", "revision": 1}}
    with respx.mock(base_url=BASE) as router:  # no probe: the rows' own references say which is ours
        post = router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow")])
        router.get("/incidents").respond(200, json=by_reference(SOMEONE_ELSES, other, ours))
        async with client:
            result = await client.create_incident(request(), KEY)
    assert (result.id, result.replayed, result.doubt, post.call_count) == (41, True, None, 1)


async def test_what_cpoms_says_of_doubt_or_replay_is_not_taken_as_our_finding(client: CpomsClient) -> None:
    ours = {**CREATED, "source": {"system": "hv-connector", "record_id": "v-1", "revision": 1},
            "doubt": "Forged: send every record again", "replayed": False}
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow")])
        router.get("/incidents").respond(200, json=by_reference(ours))
        async with client:
            result = await client.create_incident(request(), KEY)  # the answer lost, then found by reference
            found = await client.find_incident("v-1", 1)
    assert (result.id, result.replayed, result.doubt) == (41, True, None)  # no warning in CPOMS's words
    assert found is not None and (found.replayed, found.doubt) == (False, None)


async def test_a_look_up_that_cannot_tell_leaves_the_next_send_saying_it_may_be_twice(client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:  # the next push asks first (find), then sends
        post = router.post("/incidents").respond(201, json=CREATED)
        probe(router, SOMEONE_ELSES)
        router.get("/incidents").respond(200, json=by_reference(SOMEONE_ELSES))
        async with client:
            assert await client.find_incident("v-1", 1) is None
            result = await client.create_incident(request(), KEY)
            later = await client.create_incident(request(), KEY)  # said once, by the send that followed
    assert (result.id, post.call_count) == (41, 2)
    assert result.doubt is not None and "'v-1' twice" in result.doubt
    assert later.doubt is None


async def test_429_waits_as_long_as_retry_after_says(client: CpomsClient, sleeps: Sleeps) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(side_effect=[error(429, "rate_limited", **{"Retry-After": "2"}),
                                                    httpx.Response(201, json=CREATED)])
        async with client:
            await client.create_incident(request(), KEY)
    assert sleeps == [2.0]
    assert client.statuses == {429: 1, 201: 1}


async def test_429_waits_until_the_http_date_retry_after_gives(client: CpomsClient, sleeps: Sleeps) -> None:
    until = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=5), usegmt=True)
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(side_effect=[error(429, "rate_limited", **{"Retry-After": until}),
                                                    httpx.Response(201, json=CREATED)])
        async with client:
            await client.create_incident(request(), KEY)
    assert len(sleeps) == 1 and 3.0 < sleeps[0] <= 5.0


async def test_a_retry_after_beyond_the_cap_leaves_the_record_for_a_later_push(sleeps: Sleeps) -> None:
    client = CpomsClient(BASE, SecretStr(TOKEN), school_id="birchwood", token_setting=SETTING,
                         min_wait=0, max_wait=0, max_retry_after=10, sleep=sleeps)
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(return_value=error(429, "rate_limited", **{"Retry-After": "600"}))
        async with client:
            with pytest.raises(CpomsUnavailable) as caught:
                await client.create_incident(request(), KEY)
    assert caught.value.retry_after == 600 and sleeps == []


@pytest.mark.parametrize(
    ("failure", "unknown"),
    [(httpx.ReadTimeout("slow"), True), (httpx.RemoteProtocolError("dropped"), True),
     (error(503, "unavailable"), True), (httpx.ConnectError("refused"), False), (error(429, "rate_limited"), False)],
    ids=["read-timeout", "dropped", "503", "refused", "429"],
)
async def test_giving_up_says_whether_cpoms_may_have_the_record(
    failure: object, unknown: bool, client: CpomsClient
) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/incidents").mock(side_effect=[failure] * 3)
        router.get("/incidents").respond(200, json=by_reference())
        async with client:
            with pytest.raises(CpomsUnavailable) as caught:
                await client.create_incident(request(), KEY)
    assert caught.value.outcome_unknown is unknown
    assert TOKEN not in str(caught.value)


async def test_an_unknown_outcome_sticks_even_if_a_later_try_was_refused_at_the_door(client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.ConnectError("refused"),
                                                    httpx.ConnectError("refused")])
        router.get("/incidents").respond(200, json=by_reference())
        async with client:
            with pytest.raises(CpomsUnavailable) as caught:
                await client.create_incident(request(), KEY)
    assert caught.value.outcome_unknown is True


@respx.mock(base_url=BASE)
async def test_categories_map_by_name_and_are_fetched_once(respx_mock: respx.MockRouter, client: CpomsClient) -> None:
    route = respx_mock.get("/categories").respond(200, json=CATEGORIES)
    async with client:
        assert await client.category_ids(["home visit", "Safeguarding"]) == [7, 1]
        assert await client.category_ids(["Home Visit"]) == [7]
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("name", "needle"),
    [("Attendance", "no CPOMS category named 'Attendance'"),
     ("Legacy", "school birchwood's CPOMS category 'Legacy' is disabled"),
     ("Integration Tray", "school birchwood's CPOMS category 'Integration Tray' is closed to hv-connector")],
)
async def test_a_category_the_school_lacks_explains_the_mapping(name: str, needle: str, client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/categories").respond(200, json=CATEGORIES)
        async with client:
            with pytest.raises(CpomsRejected) as caught:
                await client.category_ids(["Home Visit", name])
    assert needle in str(caught.value)
    assert "hvc.toml" in str(caught.value)


@respx.mock(base_url=BASE)
async def test_pupil_matched_by_upn_then_mis_id(respx_mock: respx.MockRouter, client: CpomsClient) -> None:
    respx_mock.get("/students", params={"upn": "A123456789012"}).respond(200, json={"data": []})
    respx_mock.get("/students", params={"mis_id": "MIS-9"}).respond(
        200, json={"data": [{"id": 9, "upn": "B000000000000", "mis_id": "MIS-9", "forename": "Ada",
                             "surname": "Example"}]})
    async with client:
        student = await client.find_student(upn="A123456789012", mis_id="MIS-9")
    assert student is not None and student.id == 9


@respx.mock(base_url=BASE)
async def test_find_by_reference(respx_mock: respx.MockRouter, client: CpomsClient) -> None:
    respx_mock.get("/incidents", params={"source_system": "hv-connector", "source_record_id": "v-1"}).respond(
        200, json={"data": [CREATED]})
    respx_mock.get("/incidents", params={"source_system": "hv-connector", "source_record_id": "v-2"}).respond(
        200, json={"data": []})
    probe(respx_mock)  # it filters by reference, so CREATED (no reference of ours on it) is v-1's
    async with client:
        assert (await client.find_incident("v-1")).id == 41
        assert await client.find_incident("v-2") is None


async def test_an_unreadable_answer_is_unavailable_not_a_crash(client: CpomsClient) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").respond(201, text="<html>proxy</html>")
        router.get("/incidents").respond(200, json=by_reference())
        async with client:
            with pytest.raises(CpomsUnavailable) as caught:
                await client.create_incident(request(), KEY)
    assert caught.value.outcome_unknown is True


async def test_a_refusal_s_reason_is_data_a_line_break_or_escape_in_it_cannot_forge_a_line(client: CpomsClient) -> None:
    hostile = {"error": {"code": "bad\x1b[2J", "message": "no such pupil\n2026-11-20 12:00 sent #7 birchwood",
                         "request_id": "req-\u202e1", "details": [{"field": "student\r", "issue": "gone\n"}]}}
    with respx.mock(base_url=BASE) as router:
        router.post("/incidents").mock(return_value=httpx.Response(422, json=hostile))
        async with client:
            with pytest.raises(CpomsRejected) as caught:
                await client.create_incident(request(), KEY)
    reason = str(caught.value)
    assert "no such pupil\\x0a2026-11-20 12:00 sent #7 birchwood" in reason
    assert "bad\\x1b[2J" in reason and "req-\\u202e1" in reason and "student\\x0d: gone\\x0a" in reason
    assert not any(ord(char) < 0x20 or char == "\u202e" for char in reason)
