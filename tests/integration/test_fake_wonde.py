"""The fake Wonde over real loopback HTTP: auth, approval, paging, includes, changes, and every fault."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from hvc_fixtures.data import SCHOOLS
from hvc_fixtures.serve import RunningServer, serve_in_subprocess

BIRCHWOOD = SCHOOLS[0].wonde_id
POTTON = SCHOOLS[2].wonde_id
BEARER = {"Authorization": "Bearer test-token"}


@pytest.fixture
def client(wonde_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wonde_server.api, headers=BEARER, timeout=10) as http:
        yield http


def _walk(http: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every record of a list endpoint, following ``next``; also each page's pagination block."""
    records, metas = [], []
    response = http.get(path, params=params)
    while True:
        response.raise_for_status()
        body = response.json()
        records += body["data"]
        if "meta" not in body:  # everything fitted on one page: Wonde sends no meta then
            return records, metas
        metas.append(body["meta"]["pagination"])
        if not body["meta"]["pagination"]["more"]:
            return records, metas
        response = http.get(body["meta"]["pagination"]["next"])


def test_bearer_and_basic_auth_both_work_and_an_unknown_token_is_401(wonde_server: RunningServer) -> None:
    url = f"{wonde_server.api}/schools/{BIRCHWOOD}/students"
    assert httpx.get(url, headers=BEARER).status_code == 200
    assert httpx.get(url, auth=("test-token", "")).status_code == 200
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    refused = httpx.get(url)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"


def test_trailing_slash_is_optional(client: httpx.Client) -> None:
    assert client.get(f"/schools/{BIRCHWOOD}/students/").json() == client.get(f"/schools/{BIRCHWOOD}/students").json()


def test_approval_states_decide_what_the_token_reaches(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.fake.set_approval("potton", "pending")
    assert POTTON not in [s["id"] for s in client.get("/schools").json()["data"]]
    assert [s["id"] for s in client.get("/schools/pending").json()["data"]] == [POTTON]
    denied = client.get(f"/schools/{POTTON}/students")
    assert denied.status_code == 403
    assert denied.json()["error"] == "access_denied"
    wonde_server.fake.configure(unapproved_status=404)
    assert client.get(f"/schools/{POTTON}/students").status_code == 404

    assert client.delete(f"/schools/{BIRCHWOOD}/revoke-access").json() == {"success": True}
    assert [s["id"] for s in client.get("/schools/revoked").json()["data"]] == [BIRCHWOOD]
    assert client.post(f"/schools/{BIRCHWOOD}/request-access", json={}).json() == {"success": True}
    assert BIRCHWOOD in [s["id"] for s in client.get("/schools/pending").json()["data"]]
    wonde_server.control.post("approval", {"school": BIRCHWOOD, "state": "approved"})
    assert client.get(f"/schools/{BIRCHWOOD}").json()["data"]["urn"] == SCHOOLS[0].urn


def test_page_mode_walks_every_pupil_once_with_absolute_next_links(
    client: httpx.Client, wonde_server: RunningServer
) -> None:
    records, metas = _walk(client, f"/schools/{BIRCHWOOD}/students", per_page=25, include="contacts")
    assert len(records) == 60
    assert len({r["id"] for r in records}) == 60
    assert [m["current_page"] for m in metas] == [1, 2, 3]
    first = metas[0]
    assert first["per_page"] == "25" and first["previous"] is None and first["more"] is True
    assert first["next"].startswith(wonde_server.url + "/v1.0/") and "include=contacts" in first["next"]
    assert "per_page=25" in first["next"]
    assert metas[-1]["next"] is None and metas[-1]["more"] is False


def test_default_page_size_is_50_capped_at_200_and_per_page_can_be_an_int(
    make_wonde_server: Callable[..., RunningServer],
) -> None:
    server = make_wonde_server(pupils=250, per_page_as_string=False)
    with httpx.Client(base_url=server.api, headers=BEARER) as http:
        assert len(http.get(f"/schools/{BIRCHWOOD}/students").json()["data"]) == 50
        body = http.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": 500}).json()
        assert len(body["data"]) == 200 and body["meta"]["pagination"]["per_page"] == 200
        assert http.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": "x"}).status_code == 422


def test_cursor_mode_is_stable_while_page_mode_drifts(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.fake.configure(page_drift=5)
    paged, _ = _walk(client, f"/schools/{BIRCHWOOD}/students", per_page=20)
    assert len(paged) > len({r["id"] for r in paged})  # the same pupil served twice across pages
    client.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": 20, "page": 1})
    second = client.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": 20, "page": 2}).json()["data"]
    again = client.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": 20, "page": 2}).json()["data"]
    assert [r["id"] for r in second] != [r["id"] for r in again]
    cursored, metas = _walk(client, f"/schools/{BIRCHWOOD}/students", per_page=20, cursor="true")
    assert len(cursored) == 60 == len({r["id"] for r in cursored})
    params = httpx.URL(metas[0]["next"]).params
    assert "cursor" in params and "page" not in params


def test_includes_nest_relations_in_data_wrappers_in_the_documented_shapes(client: httpx.Client) -> None:
    include = (
        "contacts,contacts.contact_details,contact_details,extended_details,education_details,"
        "medical_conditions,medical_conditions.notes,medical_notes,sen_needs,attendance_summary,year,"
        "child_protection_plan_date_ranges,in_care_date_ranges"
    )
    pupils = client.get(f"/schools/{BIRCHWOOD}/students", params={"include": include, "per_page": 20}).json()["data"]
    markup = pupils[0]
    assert markup["forename"] == "[bold red]Test[/]"
    assert markup["date_of_birth"]["timezone_type"] == 3
    datetime.strptime(markup["updated_at"]["date"], "%Y-%m-%d %H:%M:%S.%f")
    assert {"id", "mis_id", "upi"} <= set(markup) and not {"upn", "is_leaver", "form_group"} & set(markup)
    contact = markup["contacts"]["data"][0]
    assert set(contact["relationship"]) == {"relationship", "parental_responsibility", "priority",
                                            "lives_with_pupil", "bill_payer", "email_bills"}
    assert "notes" not in contact
    assert set(contact["contact_details"]["data"]["addresses"]) == {"home", "work", "postal"}
    assert markup["contact_details"]["data"]["addresses"]["home"]["postcode"].startswith("XB")
    assert len(markup["education_details"]["data"]["upn"]) == 13
    extended = {k for p in pupils for k in p["extended_details"]["data"]}
    assert not extended & {"child_protection_plan", "child_in_need", "young_carer", "pupil_premium"}
    assert any(p["child_protection_plan_date_ranges"]["data"] for p in pupils)
    assert all(isinstance(p["in_care_date_ranges"]["data"], list) for p in pupils)
    conditions = [c for p in pupils for c in p["medical_conditions"]["data"]]
    assert conditions and all(isinstance(c["notes"]["data"], list) for c in conditions)
    needs = [n for p in pupils for n in p["sen_needs"]["data"]]
    assert needs and all("rank" in n and n["sen_category"]["data"]["name"] for n in needs)
    summaries = [p["attendance_summary"]["data"] for p in pupils]
    assert all(isinstance(a, dict) and {"possible_marks", "present_marks"} <= set(a) for a in summaries)
    assert any(a["present_marks"] < 0.7 * a["possible_marks"] for a in summaries)
    assert pupils[1]["year"]["data"]["name"].startswith("Year")


def test_permissions_list_the_scopes_the_school_granted(wonde_server: RunningServer, client: httpx.Client) -> None:
    def identities() -> set[str]:
        body = client.get(f"/meta/schools/{BIRCHWOOD}/permissions").json()
        return {p["identity"] for p in body["data"]}

    assert "medical.read" in identities()
    wonde_server.fake.configure(denied_scopes=["medical"])
    assert "medical.read" not in identities()


def test_unknown_include_is_a_422(client: httpx.Client) -> None:
    refused = client.get(f"/schools/{BIRCHWOOD}/students", params={"include": "contacts,shoe_size"})
    assert refused.status_code == 422
    assert "shoe_size" in refused.json()["error_description"]


def test_every_resource_lists_and_fetches_one_record(client: httpx.Client) -> None:
    for resource in (
        "students",
        "contacts",
        "employees",
        "attendance-summaries",
        "medical-conditions",
        "medical-notes",
        "groups",
        "events",
    ):
        first = client.get(f"/schools/{POTTON}/{resource}").json()["data"][0]
        one = client.get(f"/schools/{POTTON}/{resource}/{first['id']}")
        assert one.status_code == 200, resource
        assert one.json()["data"]["id"] == first["id"]
    assert client.get(f"/schools/{POTTON}/students/A1999999999").status_code == 404
    assert client.get(f"/schools/{POTTON}/timetables").status_code == 404
    employee = client.get(f"/schools/{POTTON}/employees", params={"include": "employment_details"}).json()["data"][1]
    assert "dsl" in employee["employment_details"]["data"]["roles"]


def test_changes_show_up_in_updated_after_and_deletions(wonde_server: RunningServer, client: httpx.Client) -> None:
    path = f"/schools/{BIRCHWOOD}"
    everyone, _ = _walk(client, f"{path}/students", per_page=200)
    newest = max(r["updated_at"]["date"][:19] for r in everyone)
    assert _walk(client, f"{path}/students", updated_after="2026-11-01 00:00:00")[0] == []
    changed = wonde_server.control.post("mutate", {"school": "birchwood", "update": 2, "delete": 1, "add": 1})
    since = _walk(client, f"{path}/students", updated_after=newest)[0]
    assert {r["id"] for r in since} >= set(changed["updated"] + changed["added"])
    assert not {r["id"] for r in since} & set(changed["deleted"])
    after_change = _walk(client, f"{path}/students", updated_after="2026-11-01 00:00:00")[0]
    assert {r["id"] for r in after_change} == set(changed["updated"] + changed["added"])
    before = _walk(client, f"{path}/students", updated_before="2026-11-01 00:00:00", per_page=200)[0]
    assert len(before) == 60 - 1 - 2
    remaining, _ = _walk(client, f"{path}/students", per_page=200)
    assert len(remaining) == 60
    deletions = client.get(f"{path}/deletions").json()["data"]
    assert [d["id"] for d in deletions] == changed["deleted"]
    assert deletions[0]["type"] == "student" and deletions[0]["restored_at"] is None
    assert deletions[0]["deleted_at"]["timezone_type"] == 3 and set(deletions[0]) == {"type", "id", "mis_id", "deleted_at", "restored_at"}
    assert client.get(f"{path}/deletions", params={"type": "contact"}).json()["data"] == []
    assert client.get(f"{path}/students", params={"updated_after": "yesterday"}).status_code == 422


def test_scopes_not_granted_come_back_null(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.fake.configure(denied_scopes=["date_of_birth", "contact_details"])
    pupil = client.get(
        f"/schools/{BIRCHWOOD}/students", params={"include": "contacts.contact_details,contact_details"}
    ).json()["data"][0]
    assert pupil["date_of_birth"] is None and pupil["contact_details"] is None
    assert "date_of_birth" in pupil
    assert all(c["contact_details"] is None for c in pupil["contacts"]["data"])


def test_malformed_and_partial_records_are_served_on_demand(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.fake.configure(malformed_every=5)
    pupils = client.get(f"/schools/{BIRCHWOOD}/students", params={"per_page": 20}).json()["data"]
    broken = [pupils[i] for i in (4, 9, 14, 19)]
    assert "surname" not in broken[0]
    assert broken[1]["forename"] == 12345
    assert broken[2]["updated_at"]["date"].startswith("2026-13")
    assert set(broken[3]) == {"id", "mis_id"}
    assert wonde_server.fake.malformed_served == [b["id"] for b in broken]


@pytest.mark.parametrize(("status", "retry_after"), [(429, 2), (429, None), (423, None), (500, None), (503, 5)])
def test_injected_statuses_hit_the_next_requests_then_stop(
    wonde_server: RunningServer, client: httpx.Client, status: int, retry_after: int | None
) -> None:
    wonde_server.control.inject(status=status, retry_after=retry_after, count=2, path=POTTON)
    assert client.get(f"/schools/{BIRCHWOOD}/students").status_code == 200  # another school is unaffected
    for _ in range(2):
        failed = client.get(f"/schools/{POTTON}/students")
        assert failed.status_code == status
        assert failed.headers.get("Retry-After") == (None if retry_after is None else str(retry_after))
        assert "error" in failed.json()
    assert client.get(f"/schools/{POTTON}/students").status_code == 200
    assert wonde_server.control.stats()["faults"] == 2


def test_a_non_json_200_and_a_dropped_connection(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.fake.inject(kind="html")
    page = client.get(f"/schools/{BIRCHWOOD}/students")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    wonde_server.fake.inject(kind="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/schools/{BIRCHWOOD}/students")
    assert client.get(f"/schools/{BIRCHWOOD}/students").status_code == 200
    assert wonde_server.fake.stats.dropped == 1


def test_slow_responses_and_latency_still_answer(make_wonde_server: Callable[..., RunningServer]) -> None:
    server = make_wonde_server(latency_ms=5)  # its own server: the abandoned slow request must not outlive the test
    server.fake.inject(kind="slow", delay_ms=20)
    with httpx.Client(base_url=server.api, headers=BEARER) as http:
        assert http.get(f"/schools/{BIRCHWOOD}/events").status_code == 200
        server.fake.inject(kind="slow", delay_ms=1000)
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"/schools/{BIRCHWOOD}/events", timeout=0.2)


def test_fractional_faults_repeat_with_the_same_seed(wonde_server: RunningServer, client: httpx.Client) -> None:
    def run() -> list[int]:
        wonde_server.control.reset()
        wonde_server.fake.inject(status=503, fraction=0.5, count=None)
        return [client.get(f"/schools/{BIRCHWOOD}/groups").status_code for _ in range(12)]

    first = run()
    assert {200, 503} == set(first)
    assert run() == first


def test_the_rate_limit_rejects_and_counts(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.control.configure(rate_limit={"requests": 3, "per_seconds": 3600})
    statuses = [client.get(f"/schools/{BIRCHWOOD}/groups").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert client.get(f"/schools/{BIRCHWOOD}/groups").headers["Retry-After"].isdigit()
    stats = wonde_server.control.stats()
    assert stats["rate_limited"] == 3
    assert stats["rate_limited_by_token"] == {"test-token": 3}


def test_down_mode_and_reset(wonde_server: RunningServer, client: httpx.Client) -> None:
    wonde_server.control.configure(down=True)
    assert client.get("/schools").status_code == 503
    wonde_server.control.reset()
    assert client.get("/schools").status_code == 200


def test_requests_are_counted_per_school_and_resource(wonde_server: RunningServer, client: httpx.Client) -> None:
    _walk(client, f"/schools/{POTTON}/students", per_page=20)
    client.get(f"/schools/{POTTON}/contacts")
    stats = wonde_server.control.stats()
    assert stats["by_school"] == {POTTON: 4}
    assert stats["by_resource"] == {"students": 3, "contacts": 1}
    assert stats["by_path"][f"GET /v1.0/schools/{POTTON}/students"] == 3
    wonde_server.control.reset_stats()
    assert wonde_server.control.stats()["requests"] == 0


def test_runs_as_a_separate_process_and_prints_its_url_and_token() -> None:
    with serve_in_subprocess("wonde_server", "--seed", "3", "--pupils", "50") as server:
        assert server.banner["tokens"] == ["test-token"]
        assert server.url.startswith("http://127.0.0.1:")
        body = httpx.get(f"{server.api}/schools/{POTTON}/students", headers=BEARER).json()
        assert len(body["data"]) == 50
        assert server.fake is None


def test_warming_the_cache_serves_the_same_records(wonde_server: RunningServer, client: httpx.Client) -> None:
    cold, _ = _walk(client, f"/schools/{POTTON}/students", include="contacts,medical_conditions", per_page=200)
    wonde_server.control.reset()
    assert wonde_server.control.post("warm", {"include": "contacts,medical_conditions"}) == {"rendered": 300}
    warm, _ = _walk(client, f"/schools/{POTTON}/students", include="contacts,medical_conditions", per_page=200)
    assert warm == cold


def test_an_added_pupil_brings_new_contacts_in_updated_after(wonde_server: RunningServer, client: httpx.Client) -> None:
    added = wonde_server.fake.mutate("potton", add=3)["added"]
    fresh = client.get(
        f"/schools/{POTTON}/contacts", params={"updated_after": "2026-11-01 00:00:00", "include": "students"}
    )
    contacts = fresh.json()["data"]
    assert contacts
    assert {s["id"] for c in contacts for s in c["students"]["data"]} == set(added)
    assert (
        client.get(f"/schools/{POTTON}/employees", params={"updated_after": "2026-11-01 00:00:00"}).json()["data"] == []
    )
    refused = httpx.post(f"{wonde_server.url}/_fake/mutate", json={"school": "atlantis", "add": 1})
    assert refused.status_code == 422
