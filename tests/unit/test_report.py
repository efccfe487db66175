"""The CPOMS record is built from the visit: what the policies ask for, dated right, never the code word."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from hv_connector.models import Visit
from hv_connector.outbox.report import Decision, build_reports
from hv_connector.plugins import Policies
from tests.cpomskit import START, demo_visit, kit_policies


@pytest.fixture
def policies() -> Policies:
    return kit_policies("oak")


def visit(**outcome: object) -> Visit:
    return demo_visit(None, "oak", 0, visit_id="v-42", **outcome)


def test_a_routine_report_holds_what_the_policies_ask_for(policies: Policies) -> None:
    override = Decision(what="Override of oak.pairs", by="Jo Authoriser", reason="second adult waiting in the car")
    [report] = build_reports(visit(), "home-visit", policies, decisions=[override])
    assert report.record_id == "v-42" and report.kind == "home-visit" and not report.alert_dsl
    assert report.categories == ("Home Visit",)
    assert report.occurred_at == START + timedelta(minutes=7)  # the arrival, not when it was written up
    assert report.visit_type == "attendance" and report.outcome == "child_seen"
    assert [a.text for a in report.actions] == ["Check attendance on Friday.", "Phone the family in a week."]
    assert report.actions[1].due_on == date(2026, 11, 27)
    assert [d.what for d in report.decisions] == ["Visit authorised", "Override of oak.pairs"]
    text = report.description
    for expected in ("Attendance below 90%", "Alex Visitor (pastoral)", "Arrived: Fri 20 Nov 2026 10:07",
                     "left: Fri 20 Nov 2026 10:52", "spoken to: yes", "\"I don't like the bus in the morning.\"",
                     "Mary Example (mother)", "Mum walks to school", "Concerns: none raised",
                     "reason: second adult waiting in the car", "Phone the family in a week. (pflo, by 27 Nov 2026)",
                     "Outcome: child seen and spoken to"):
        assert expected in text, expected


def test_a_report_without_an_arrival_is_dated_to_the_planned_start(policies: Policies) -> None:
    [report] = build_reports(visit(arrived_at=None, departed_at=None), "home-visit", policies)
    assert report.occurred_at == START


def test_a_concern_becomes_its_own_urgent_record_alerting_the_dsl(policies: Policies) -> None:
    reports = build_reports(
        visit(cp_concern=True, concerns="Bruise on the left forearm; Ada said she fell.",
              violence_or_abuse=True, incident_reported_to_line_manager=True,
              entry_concerns=["under-influence"], entered_home=False),
        "home-visit", policies, dsl_emails=["dsl@oak.example"])
    concern, routine = reports
    assert (concern.kind, concern.record_id, concern.alert_dsl) == ("concern", "v-42/concern", True)
    assert concern.alert_emails == ("dsl@oak.example",) and routine.alert_emails == ()
    assert concern.categories == ("Child Protection", "Home Visit")
    assert concern.summary.startswith("Safeguarding concern about Test Pupil raised on a home visit: Bruise")
    assert "Violence or abuse towards staff occurred" in concern.description
    assert ("Safety at the door: an adult appeared to be under the influence; staff did not go in"
            in concern.description)
    assert "discussed with the DSL" not in routine.outcome_text


def test_a_concern_flagged_at_a_check_in_is_dated_when_it_was_raised(policies: Policies) -> None:
    data = visit().model_dump(mode="json", context={"reveal_secrets": True})
    raised = START + timedelta(minutes=20)
    data["check_ins"] = [{"at": raised.isoformat(), "kind": "staff-call", "concerns": True, "note": "Dad shouting"}]
    concern, _ = build_reports(Visit.model_validate(data), "home-visit", policies)
    assert concern.occurred_at == raised
    assert "Raised at the 10:20 check-in: Dad shouting" in concern.concerns


def test_a_cancelled_visit_says_why_and_has_no_outcome(policies: Policies) -> None:
    [report] = build_reports(
        visit(cancelled=True, cancelled_for_safety=True, cancellation_reason="Known violent person at the address",
              child_seen=None), "cancelled", policies)
    assert report.outcome is None
    assert "did not go ahead: Known violent person" in report.summary
    assert "Visit cancelled — reason: Known violent person at the address" in report.description


@pytest.mark.parametrize("kind", ["home-visit", "concern", "attendance", "cancelled"])
def test_the_code_word_never_reaches_the_record(policies: Policies, kind: str) -> None:
    for report in build_reports(visit(cp_concern=True, concerns="worry"), kind, policies):
        assert "bluebell" not in json.dumps(report.model_dump(mode="json")).lower()


def test_asking_for_a_concern_still_writes_the_visit_record(policies: Policies) -> None:
    kinds = [r.kind for r in build_reports(visit(concerns="Ada seemed withdrawn."), "concern", policies)]
    assert kinds == ["concern", "home-visit"]


def test_the_record_names_the_pupil_by_upn_the_mis_s_own_id_and_birthday_never_the_feed_id(
        policies: Policies) -> None:
    base = visit()
    pupil = base.pupil.model_copy(update={"mis_id": "A1749191433", "native_id": "9919", "upn": "X000000000011",
                                          "date_of_birth": date(2010, 2, 11)})
    [report] = build_reports(base.model_copy(update={"pupil": pupil}), "home-visit", policies)
    assert (report.upn, report.mis_id, report.date_of_birth) == ("X000000000011", "9919", date(2010, 2, 11))
    assert "UPN X000000000011, MIS id 9919, born" in report.description
    assert "A1749191433" not in json.dumps(report.model_dump(mode="json"))
