"""Who acts is known, not claimed: the signed-in person acts as themselves and sees only their own school.

Bea Lead (bw-dsl) signs in by her OS login (the login running the tests); Potton's visit, pupil, outbox
record and alarm are another school's, and every command refuses them with a clear message.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import pytest
from visitkit import REVIEW_WARNING, birchwood_request, potton_request  # type: ignore[import-not-found]

LATE = "2026-11-23T13:00"
"""Two hours after the Potton visit was due back: the watch raises its alarm."""

REFUSED = "belongs to potton, and Bea Lead works in birchwood only"


@pytest.fixture
def potton(hvc, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A Potton visit out past its return (with its alarm) and a reported one (with its outbox record)."""
    ids = {}
    for name in ("late", "reported"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(potton_request()), encoding="utf-8")
        code, out, err = hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")
        assert code == 0, err
        ids[name] = json.loads(out)["visit"]["id"]
        assert hvc("visit", "authorise", ids[name], "--as", "pt-head", "--ack", REVIEW_WARNING)[0] == 0
        assert hvc("visit", "sign-out", ids[name], "--as", "pt-v1")[0] == 0
    assert hvc("visit", "return", ids["reported"], "--as", "pt-v1")[0] == 0
    code, _, err = hvc("visit", "report", ids["reported"], "--as", "pt-v1", "--child-seen", "--spoken-to",
                       "--discussion", "Plan agreed.")
    assert code == 0, err
    hvc("watch", "--now", LATE)
    ids["escalation"] = str(json.loads(hvc("escalation", "list", "--json")[1])[0]["id"])
    ids["outbox"] = str(json.loads(hvc("outbox", "list", "--json")[1])[0]["id"])
    return ids


@pytest.fixture
def as_bea(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on the tests run as Bea Lead: her directory entry names the login running them."""
    config = Path(os.environ["HVC_CONFIG"])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('id = "bw-dsl"', f'id = "bw-dsl"\nlogins = ["{getpass.getuser()}"]'),
                      encoding="utf-8")
    monkeypatch.delenv("HVC_ACCESS__ACT_FOR_OTHERS")


def test_whoami_names_the_person_the_login_belongs_to(hvc, as_bea) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("access", "whoami")
    assert code == 0
    assert f"You are Bea Lead (bw-dsl), known by login {getpass.getuser()}." in out
    assert "Schools: birchwood." in out and "You act only as yourself." in out


def test_naming_someone_else_with_as_is_refused(hvc, potton, as_bea) -> None:  # type: ignore[no-untyped-def]
    code, _, err = hvc("visit", "list", "--as", "bw-slt")
    assert code == 1
    assert "--as 'bw-slt': you are signed in as Bea Lead (bw-dsl), known by login" in err and "leave out --as" in err


def test_the_audit_log_records_who_acted_and_how_they_were_known(hvc, tmp_path: Path, as_bea) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(birchwood_request()), encoding="utf-8")
    code, out, err = hvc("visit", "request", "--file", str(path), "--json")
    assert code == 0, err
    code, out, _ = hvc("audit", "show", json.loads(out)["visit"]["id"], "--json")
    entry = json.loads(out)[0]
    assert (entry["actor"], entry["detail"]["identified_by"]) == ("bw-dsl", f"login {getpass.getuser()}")


@pytest.mark.parametrize("args", [
    ("visit", "show", "{late}"),
    ("audit", "show", "{late}"),
    ("visit", "sign-out", "{late}"),
    ("visit", "return", "{late}"),
    ("visit", "list", "--school", "potton"),
    ("pupil", "show", "A1000000001"),
    ("outbox", "show", "{outbox}"),
    ("outbox", "retry", "{outbox}"),
    ("outbox", "list", "--school", "potton"),
    ("escalation", "ack", "{escalation}"),
    ("escalation", "next", "{escalation}"),
    ("escalation", "stand-down", "{late}"),
])
def test_another_schools_records_are_refused(hvc, potton, as_bea, args) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc(*(arg.format(**potton) for arg in args))
    assert (code, out) == (1, ""), err
    assert REFUSED in err and "Traceback" not in err


def test_lists_show_only_the_persons_own_school(hvc, potton, as_bea) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(hvc("visit", "list", "--json")[1]) == []
    assert json.loads(hvc("outbox", "list", "--json")[1]) == []
    assert json.loads(hvc("escalation", "list", "--json")[1]) == []



@pytest.fixture
def potton_hold(hvc, potton) -> str:  # type: ignore[no-untyped-def]
    """A hold on the Potton visit still out, placed by Potton's DSL before Bea signs in."""
    code, _, err = hvc("retention", "hold", "visit", potton["late"], "--school", "potton", "--as", "pt-dsl",
                       "--reason", "May concern an allegation: keep until the LADO says otherwise.")
    assert code == 0, err
    return potton["late"]


def test_retention_shows_staff_only_their_schools_records_and_leaves_the_run_to_the_server(  # type: ignore[no-untyped-def]
        hvc, potton, potton_hold, as_bea, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_RETENTION__ROUTINE_VISIT_YEARS", "0")  # Potton's reported visit is due today
    code, out, _ = hvc("retention", "holds")
    assert (code, out) == (0, "No holds.\n")  # Potton's hold and its reason stay Potton's
    code, out, _ = hvc("retention", "run", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["due"] == json.loads(out)["held_back"] == []
    code, out, err = hvc("retention", "run")
    assert (code, out) == (1, "") and "the server's nightly job" in err and "--dry-run" in err

    monkeypatch.setenv("HVC_ACCESS__ACT_FOR_OTHERS", json.dumps([getpass.getuser()]))  # as the server's account
    assert "LADO" in hvc("retention", "holds")[1]
    code, out, _ = hvc("retention", "run", "--dry-run", "--json")
    # Due, but held back: its report has not reached CPOMS yet.
    assert [d["record_id"] for d in json.loads(out)["held_back"]] == [potton["reported"]]


@pytest.fixture
def potton_proposal(hvc) -> str:  # type: ignore[no-untyped-def]
    """A Potton proposal from a refresh, made before Bea signs in."""
    assert hvc("propose", "refresh")[0] == 0
    listed = json.loads(hvc("propose", "list", "--school", "potton", "--json")[1])
    return str(listed["proposals"][0]["id"])


@pytest.mark.parametrize("decision", [("accept",), ("dismiss", "--reason", "Moved away")])
def test_another_schools_proposal_is_refused_as_it_is_decided(hvc, potton_proposal, as_bea, decision) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc("propose", decision[0], potton_proposal, *decision[1:])
    assert (code, out) == (1, ""), err
    assert REFUSED in err and "Traceback" not in err
