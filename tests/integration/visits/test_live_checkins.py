"""What staff report at a check-in reaches the school's "during" rules while they are still out.

Potton §3: wait no more than 15 minutes for parents who are not there; dangerous animals are shut away
or the visit is cancelled. The findings come with the check-in, before any report is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from visitkit import REVIEW_WARNING, potton_request  # type: ignore[import-not-found]


@pytest.fixture
def out_on_a_visit(hvc, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A Potton visit, authorised and signed out: the staff are at the door."""
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    code, out, err = hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")
    assert code == 0, err
    visit_id: str = json.loads(out)["visit"]["id"]
    for args in (("authorise", "--as", "pt-head", "--ack", REVIEW_WARNING), ("sign-out", "--as", "pt-v1")):
        code, _, err = hvc("visit", args[0], visit_id, *args[1:])
        assert code == 0, err
    return visit_id


def check_in(hvc, visit_id: str, *options: str) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Check in with ``options``; the visit's state and its findings (rule id → message)."""
    code, out, err = hvc("visit", "check-in", visit_id, "--as", "pt-v1", *options, "--json")
    assert code == 0, err
    result = json.loads(out)
    return result["visit"]["state"], {f["rule_id"]: f["message"] for f in result["findings"]}


def test_a_20_minute_wait_for_absent_parents_is_flagged_while_staff_wait(hvc, out_on_a_visit: str) -> None:  # type: ignore[no-untyped-def]
    state, findings = check_in(hvc, out_on_a_visit, "--parents-absent", "--waited", "10")
    assert state == "signed-out" and "potton.wait-15-minutes" not in findings
    state, findings = check_in(hvc, out_on_a_visit, "--parents-absent", "--waited", "20")
    assert state == "signed-out"
    assert "wait has reached 20 minutes: wait no more than 15" in findings["potton.wait-15-minutes"]
    _, findings = check_in(hvc, out_on_a_visit, "--parents-present")  # mum came home: the wait is over
    assert "potton.wait-15-minutes" not in findings


def test_an_animal_not_shut_away_is_flagged_until_it_is(hvc, out_on_a_visit: str) -> None:  # type: ignore[no-untyped-def]
    state, findings = check_in(hvc, out_on_a_visit, "--animals-not-secured", "--note", "Large dog loose in the hall.")
    assert state == "signed-out" and "shut the animals in another room" in findings["potton.animals"]
    code, out, _ = hvc("visit", "show", out_on_a_visit)
    assert code == 0 and "ANIMAL LOOSE Large dog loose in the hall." in out
    _, findings = check_in(hvc, out_on_a_visit, "--animals-secured")
    assert "potton.animals" not in findings


def test_a_bad_wait_is_exit_2_naming_the_option(hvc, out_on_a_visit: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = hvc("visit", "check-in", out_on_a_visit, "--as", "pt-v1", "--waited", "-5")
    assert code == 2 and "--waited" in err
