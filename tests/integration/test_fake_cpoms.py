"""The fake CPOMS over real loopback HTTP: the §4 contract, idempotency, refusals, limits and failures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hvc_fixtures.cpoms_server import CpomsFake
from hvc_fixtures.data import Dataset
from hvc_fixtures.serve import RunningServer, serve_in_subprocess, serve_in_thread

DATA = Dataset(seed=1, pupils=60)
PUPIL = DATA.pupil("potton", 5)
STAFF = DATA.staff("potton")
DSL = next(s for s in STAFF if "dsl" in s.roles)
TEACHER = next(s for s in STAFF if "teacher" in s.roles)
TOKEN = {"Authorization": "Bearer test-token-potton"}


def incident(record_id: str = "hv_1", **changes: Any) -> dict[str, Any]:
    body = {
        "kind": "home_visit",
        "student": {"upn": PUPIL.upn},
        "category_ids": [7],
        "occurred_at": "2026-11-20T10:15:00+00:00",
        "location": "Family home",
        "description": "Child seen at home with mother; no concerns raised.",
        "reported_by": {"email": TEACHER.email},
        "home_visit": {
            "visit_type": "welfare_check",
            "outcome": "child_seen",
            "visitors": [{"email": TEACHER.email}],
            "voice_of_child": "I like my new school.",
        },
        "source": {"system": "hv-connector", "record_id": record_id, "revision": 1},
    }
    return {**body, **changes}


@pytest.fixture
def client(cpoms_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cpoms_server.api, headers=TOKEN, timeout=10) as http:
        yield http


def post(http: httpx.Client, body: Any, key: str | None = "key-1", **headers: str) -> httpx.Response:
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return http.post("/incidents", json=body, headers=sent)


def test_tokens_are_per_school_and_every_answer_has_a_request_id(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    anonymous = httpx.get(f"{cpoms_server.api}/categories")
    assert anonymous.status_code == 401
    error = anonymous.json()["error"]
    assert error["code"] == "unauthorized" and error["request_id"] == anonymous.headers["X-Request-Id"]
    cpoms_server.fake.configure(forbidden_tokens=["test-token-potton"])
    assert client.get("/categories").json()["error"]["code"] == "forbidden"
    cpoms_server.fake.configure(forbidden_tokens=[])
    ok = client.get("/categories")
    assert ok.status_code == 200 and ok.headers["X-Request-Id"] != anonymous.headers["X-Request-Id"]


def test_categories_are_the_seed_data(client: httpx.Client) -> None:
    categories = {c["id"]: c for c in client.get("/categories").json()["data"]}
    assert categories[7]["name"] == "Home Visit"
    assert categories[11]["parent_id"] == 1
    assert categories[8]["can_add"] is False and categories[9]["active"] is False
    assert set(categories[1]) == {"id", "name", "parent_id", "colour", "active", "can_add"}


def test_students_match_the_wonde_pupils_by_upn_mis_id_or_admission_number_and_birth_date(client: httpx.Client) -> None:
    by_upn = client.get("/students", params={"upn": PUPIL.upn}).json()["data"]
    assert [(s["id"], s["mis_id"], s["forename"]) for s in by_upn] == [(6, PUPIL.mis_id, PUPIL.forename)]
    assert client.get("/students", params={"mis_id": PUPIL.mis_id}).json()["data"] == by_upn
    both = {"admission_number": PUPIL.admission_number, "date_of_birth": PUPIL.date_of_birth.isoformat()}
    assert client.get("/students", params=both).json()["data"] == by_upn
    assert client.get("/students", params={**both, "date_of_birth": "2001-01-01"}).json()["data"] == []
    assert client.get("/students", params={"upn": "A999000000001"}).json()["data"] == []
    assert client.get("/students", params={"admission_number": "6"}).status_code == 422


def test_staff_are_found_by_school_email(client: httpx.Client) -> None:
    found = client.get("/staff", params={"email": DSL.email.upper()}).json()["data"]
    assert found == [{"id": DSL.ordinal + 1, "email": DSL.email, "name": DSL.name}]
    assert client.get("/staff", params={"email": "nobody@else.example"}).json()["data"] == []


def test_an_incident_is_recorded_once_and_replayed_for_the_same_key(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    created = post(client, incident())
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "recorded" and body["student_id"] == 6 and body["category_ids"] == [7]
    assert body["alerts"] == [{"staff_email": DSL.email, "category_names": ["Home Visit"]}]
    replay = post(client, incident())
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    assert len(cpoms_server.fake.incidents) == 1
    found = client.get("/incidents", params={"source_system": "hv-connector", "source_record_id": "hv_1"}).json()[
        "data"
    ]
    assert [i["id"] for i in found] == [body["id"]]
    assert (
        client.get(f"/incidents/{body['id']}").json()["data"]["home_visit"]["voice_of_child"] == "I like my new school."
    )
    assert "I like my new school." in cpoms_server.fake.incidents[0]["rendered_text"]
    other = httpx.get(
        f"{cpoms_server.api}/incidents/{body['id']}", headers={"Authorization": "Bearer test-token-birchwood"}
    )
    assert other.status_code == 404


def test_a_reused_key_with_another_body_is_409_and_records_nothing(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    post(client, incident())
    reused = post(client, incident(description="Something else entirely."))
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert len(cpoms_server.control.get("incidents")["data"]) == 1


async def test_a_key_still_in_flight_is_409_in_use(cpoms_server: RunningServer) -> None:
    cpoms_server.fake.hold_incidents()
    async with httpx.AsyncClient(base_url=cpoms_server.api, headers={**TOKEN, "Idempotency-Key": "same"}) as http:
        first = asyncio.create_task(http.post("/incidents", json=incident()))
        while cpoms_server.fake.in_flight() == 0:
            await asyncio.sleep(0.005)
        clash = await http.post("/incidents", json=incident())
        cpoms_server.fake.release_incidents()
        assert (await first).status_code == 201
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_key_in_use"
    assert len(cpoms_server.fake.incidents) == 1


def test_requests_the_contract_refuses(client: httpx.Client) -> None:
    missing = post(client, incident(), key=None)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "idempotency_key_required")
    not_json = client.post(
        "/incidents", content=b"{nope", headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_json")
    form = client.post("/incidents", data={"a": "b"}, headers={"Idempotency-Key": "k2"})
    assert (form.status_code, form.json()["error"]["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"category_ids": [99]}, "unknown_category", "category_ids[0]"),
        ({"category_ids": [9]}, "category_disabled", "category_ids[0]"),
        ({"student": {"upn": "A999000000001"}}, "student_not_found", "student"),
        ({"student": {"upn": PUPIL.upn, "mis_id": "100007"}}, "student_ambiguous", "student"),
        ({"reported_by": {"email": "stranger@else.example"}}, "staff_not_found", "reported_by"),
        ({"description": ""}, "validation_failed", "description"),
        ({"category_ids": [7, 1, 2, 3]}, "validation_failed", "category_ids"),
        ({"occurred_at": "2026-11-20T10:15:00"}, "validation_failed", "occurred_at"),
        ({"home_visit": None}, "validation_failed", "home_visit"),
    ],
)
def test_refusals_are_422_with_the_field_and_the_reason(
    cpoms_server: RunningServer, client: httpx.Client, changes: dict[str, Any], code: str, field: str
) -> None:
    refused = post(client, incident(**changes))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == code
    assert field in [d["field"] for d in error["details"]]
    assert error["request_id"] == refused.headers["X-Request-Id"]
    assert cpoms_server.fake.incidents == []
    assert post(client, incident(**changes)).headers["Idempotent-Replayed"] == "true"


def test_a_category_the_token_may_not_use_is_403(client: httpx.Client) -> None:
    refused = post(client, incident(category_ids=[8]))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


def test_an_unmatched_pupil_goes_to_the_tray_when_asked(client: httpx.Client) -> None:
    tray = post(client, incident(student={"upn": "A999000000001"}, on_unmatched_student="tray"))
    assert tray.status_code == 201
    assert (tray.json()["status"], tray.json()["student_id"]) == ("tray", None)


def test_attachments_are_checked(client: httpx.Client) -> None:
    content = b"%PDF-1.4 fictional"
    good = {
        "filename": "note.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(content).decode(),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    assert post(client, incident(attachments=[good]), key="a1").status_code == 201
    bad = post(client, incident(record_id="hv_2", attachments=[{**good, "sha256": "0" * 64}]), key="a2")
    assert bad.json()["error"]["details"] == [{"field": "attachments[0].sha256", "issue": "sha256_mismatch"}]


def test_alerts_never_carry_the_description(cpoms_server: RunningServer, client: httpx.Client) -> None:
    post(client, incident(kind="concern", home_visit=None, category_ids=[11], alert_staff=[{"email": DSL.email}]))
    alerts = cpoms_server.control.get("alerts")["data"]
    assert alerts == [{**alerts[0], "staff_email": DSL.email, "category_names": ["Child Protection"]}]
    assert "mother" not in str(alerts)


def test_the_rate_limit_is_a_bucket_per_token_with_retry_after(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    cpoms_server.control.configure(rate_limit={"requests": 2, "per_seconds": 60})
    first = client.get("/categories")
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    client.get("/categories")
    limited = client.get("/categories")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1 and "X-RateLimit-Reset" in limited.headers
    other = httpx.get(f"{cpoms_server.api}/categories", headers={"Authorization": "Bearer test-token-birchwood"})
    assert other.status_code == 200
    assert cpoms_server.control.stats()["rate_limited_by_token"] == {"test-token-potton": 1}


def test_the_default_limit_is_60_a_minute(client: httpx.Client) -> None:
    assert client.get("/categories").headers["X-RateLimit-Limit"] == "60"


def test_forced_failures_for_the_next_n_requests_then_success(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    cpoms_server.control.inject(status=503, retry_after=1, count=2, path="/incidents")
    for _ in range(2):
        failed = post(client, incident())
        assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
        assert failed.json()["error"]["code"] == "unavailable"
    assert post(client, incident()).status_code == 201
    cpoms_server.control.inject(status=500, count=1)
    assert client.get("/categories").json()["error"]["code"] == "internal_error"


def test_down_mode_refuses_everything_until_switched_off(cpoms_server: RunningServer, client: httpx.Client) -> None:
    cpoms_server.control.configure(down=True)
    assert post(client, incident()).status_code == 503
    assert cpoms_server.fake.incidents == []
    cpoms_server.control.configure(down=False)
    assert post(client, incident()).status_code == 201


def test_accept_then_drop_records_the_incident_but_the_client_sees_a_dropped_connection(
    cpoms_server: RunningServer, client: httpx.Client
) -> None:
    cpoms_server.control.inject(kind="accept_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, incident())
    assert [i["source"]["record_id"] for i in cpoms_server.control.get("incidents")["data"]] == ["hv_1"]
    found = client.get("/incidents", params={"source_system": "hv-connector", "source_record_id": "hv_1"}).json()[
        "data"
    ]
    assert len(found) == 1
    retried = post(client, incident())
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert len(cpoms_server.fake.incidents_for("hv_1")) == 1
    assert cpoms_server.control.stats()["by_status"] == {"dropped": 1, "200": 1, "201": 1}


def test_reset_forgets_incidents_and_keys(cpoms_server: RunningServer, client: httpx.Client) -> None:
    post(client, incident())
    cpoms_server.control.reset()
    assert cpoms_server.fake.incidents == []
    assert post(client, incident()).headers.get("Idempotent-Replayed") is None


def test_a_state_file_keeps_incidents_and_keys_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "cpoms.jsonl"
    with (
        serve_in_thread(CpomsFake(1, 60, state_file=state)) as server,
        httpx.Client(base_url=server.api, headers=TOKEN) as http,
    ):
        assert post(http, incident()).status_code == 201
    with (
        serve_in_thread(CpomsFake(1, 60, state_file=state)) as server,
        httpx.Client(base_url=server.api, headers=TOKEN) as http,
    ):
        assert len(server.fake.incidents) == 1
        assert post(http, incident()).headers["Idempotent-Replayed"] == "true"
        assert post(http, incident("hv_2"), key="key-2").json()["id"] == 2


def test_runs_as_a_separate_process_and_prints_its_url_and_tokens(tmp_path: Path) -> None:
    with serve_in_subprocess(
        "cpoms_server", "--seed", "1", "--pupils", "60", "--state-file", str(tmp_path / "s.jsonl")
    ) as server:
        assert server.banner["tokens"]["test-token-potton"] == "potton"
        with httpx.Client(base_url=server.api, headers=TOKEN) as http:
            assert post(http, incident()).status_code == 201
        assert len(server.control.get("incidents")["data"]) == 1


async def test_an_async_client_also_sees_the_drop_after_accept(cpoms_server: RunningServer) -> None:
    cpoms_server.fake.inject(kind="accept_then_drop", count=1)
    async with httpx.AsyncClient(base_url=cpoms_server.api, headers={**TOKEN, "Idempotency-Key": "async-1"}) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/incidents", json=incident("hv_async"))
        replay = await http.post("/incidents", json=incident("hv_async"))
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(cpoms_server.fake.incidents_for("hv_async")) == 1
