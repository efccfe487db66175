"""Properties of the policy engine over every installed school: no well-formed visit
breaks it, findings are deterministic, and every finding is a declared rule at its stage."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hv_connector.clock import LONDON
from hv_connector.errors import PluginContractError
from hv_connector.models import Finding, PolicyContext, Severity, Stage, Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.rules import RuleBook, Verdict
from hv_connector.testing import DEFAULT_NOW, base_visit, staff

POLICIES = Policies(build_plugin_manager())
SCHOOLS = POLICIES.schools()
FIVE = ["birchwood", "hexthorpe", "potton", "st-edwards", "washwood-heath"]
ROLES = ["dsl", "deputy-dsl", "slt", "headteacher", "line-manager", "office", "pflo", "admin", "pastoral", "teacher"]

# Instants from spring 2025 to spring 2027, so both clock changes and every hour of the day occur,
# written in UTC or on the London clock.
moments = st.datetimes(min_value=datetime(2025, 3, 1), max_value=datetime(2027, 4, 1),
                       timezones=st.sampled_from([timezone.utc, LONDON]))
minutes_after = st.integers(0, 300).map(lambda m: timedelta(minutes=m))
people = st.builds(
    lambda i, roles, mobile, dbs, trained: staff(f"s{i}", f"Person {i}", *roles, mobile=mobile, dbs=dbs,
                                                 home_visit_trained=trained),
    st.integers(0, 99), st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
    st.one_of(st.none(), st.just("07700 900123")), st.sampled_from([None, "enhanced", "basic", "none"]), st.booleans(),
)
maybe_person = st.one_of(st.none(), people)
flags = ["new_family", "record_of_past_visit", "line_manager_informed", "logged_with_office", "phones_given_to_office",
         "hygiene_checklist_done", "safeguarding", "statutory_cp", "emergency", "parents_informed", "parent_agreement",
         "parents_not_responding", "returning_to_school"]


@st.composite
def visits(draw, school: str) -> Visit:
    reasons = [r.code for r in POLICIES.reasons(school)]
    start = draw(moments)
    data = {
        "school": school,
        "pupil": {"name": draw(st.text(min_size=1, max_size=20)), "mis_id": "A1000000001",
                  "known_in_mis": draw(st.booleans()),
                  "attendance_3m": draw(st.one_of(st.none(), st.floats(0, 100)))},
        "reason": draw(st.one_of(st.sampled_from(reasons), st.just(""), st.just("not-a-reason"))),
        "address": draw(st.one_of(st.none(), st.just("1 Example Road, TT1 1AA"))),
        "planned_start": start.isoformat(),
        "expected_return": draw(st.one_of(st.none(), st.integers(5, 300).map(
            # added in UTC: on the London clock, minutes added to a time the spring change skips can land earlier
            lambda m: (start.astimezone(timezone.utc) + timedelta(minutes=m)).isoformat()))),
        "travel": draw(st.sampled_from(["car", "foot", "public-transport", "other"])),
        "staff": draw(st.lists(people, max_size=3, unique_by=lambda p: p["id"])),
        "purpose": draw(st.sampled_from(["", "Talk about mornings."])),
        "requested_by": draw(maybe_person),
        "planned_with": draw(maybe_person),
        "alternatives_considered": draw(st.lists(st.fixed_dictionaries({
            "method": st.sampled_from(["video-call", "meeting-elsewhere", "public-premises", "private-premises"]),
            "why_not": st.just("The family has no internet.")}), max_size=4)),
        "background_shown_at": draw(st.one_of(st.none(), st.just(start.isoformat()))),
        "safeguarding_discussed_with": draw(maybe_person),
        "out_of_hours_arranged_by": draw(maybe_person),
        "welfare_contact": draw(maybe_person),
        "nearby_staff": draw(maybe_person),
        "lone_visit_agreed_by": draw(maybe_person),
        "authorised_by": draw(maybe_person),
        "family": {"concerns": draw(st.booleans()),
                   "information": draw(st.sampled_from(["full", "some", "little-or-none"])),
                   "known_violent_person": draw(st.booleans()), "dangerous_animals": draw(st.booleans())},
        "risk_assessment": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "code_word": st.one_of(st.none(), st.just("heron")),
            "completed_by": maybe_person, "completed_with": maybe_person, "signed_off_by": maybe_person,
            "lone_working": st.booleans(), "concerns_mitigated": st.booleans(),
            "covers": st.lists(st.sampled_from(["behaviour", "environment", "home-circumstances", "travel",
                                                "time-of-day", "mobile-coverage"]), unique=True),
            "contact_interval_minutes": st.one_of(st.none(), st.integers(5, 60)),
            "missed_contact_procedure": st.one_of(st.none(), st.just("Office rings the buddy, then the head.")),
            "hazards": st.lists(st.fixed_dictionaries({
                "hazard": st.sampled_from(["Driving", "Dog or other animal in the home", "Aggressive adult"]),
                "controls": st.lists(st.just("Keep away"), max_size=1),
                "rating": st.one_of(st.none(), st.sampled_from(["L", "M", "H"]))}), max_size=3),
        }))),
        "vehicle": draw(st.one_of(st.none(), st.fixed_dictionaries({"make": st.sampled_from(["", "Ford"]),
                                                                    "registration": st.sampled_from(["", "AB12 CDE"])}))),
        "external_referral": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "service": st.just("Early Help"), "coordinated": st.booleans(), "risk_plan": st.booleans()}))),
        "signed_out_at": draw(st.one_of(st.none(), st.just(start.isoformat()))),
        "returned_at": draw(st.one_of(st.none(), minutes_after.map(lambda d: (start + d).isoformat()))),
        "escalation_started_at": draw(st.one_of(st.none(), minutes_after.map(lambda d: (start + d).isoformat()))),
        "check_ins": draw(st.lists(st.fixed_dictionaries({
            "at": st.integers(0, 240).map(lambda m: (start + timedelta(minutes=m)).isoformat()),
            "kind": st.sampled_from(["office-call", "staff-call", "arrived", "left-home", "home-safe", "interruption"]),
            "code_word_used": st.booleans(), "concerns": st.booleans()}), max_size=3)),
        "outcome": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "arrived_at": st.one_of(st.none(), st.just(start.isoformat())),
            "parents_present_on_arrival": st.one_of(st.none(), st.booleans()),
            "waited_minutes": st.one_of(st.none(), st.integers(0, 60)),
            "cancelled": st.booleans(), "cancelled_for_safety": st.booleans(),
            "dangerous_animals_present": st.booleans(), "animals_secured": st.one_of(st.none(), st.booleans()),
            "entered_home": st.one_of(st.none(), st.booleans()),
            "departed_at": st.one_of(st.none(), minutes_after.map(lambda d: (start + d).isoformat())),
            "parent_present_inside": st.one_of(st.none(), st.booleans()),
            "entry_concerns": st.lists(st.sampled_from(["under-influence", "arranged-person-absent",
                                                        "known-violent-person"]), unique=True),
            "child_seen": st.one_of(st.none(), st.booleans()), "child_spoken_to": st.one_of(st.none(), st.booleans()),
            "cp_concern": st.booleans(), "cp_discussed_with_dsl": st.booleans(),
            "concerns": st.sampled_from(["", "A bruise on the arm."]),
            "violence_or_abuse": st.booleans(), "incident_reported_to_line_manager": st.booleans(),
            "reported_to_head": st.booleans(), "tutoring_room": st.sampled_from(["", "kitchen", "bedroom"]),
            "agreements": st.lists(st.just("In by 8.45"), max_size=1),
            "action_points": st.lists(st.just("Review in a week"), max_size=1),
            "discussion": st.sampled_from(["", "Talked about mornings."]),
        }))),
    }
    for flag in flags:
        data[flag] = draw(st.booleans())
    return Visit.model_validate(data)


AGAIN = Policies(build_plugin_manager())
"""A second, separately loaded set of policies: findings must not depend on which one answers."""


def same_visit_again(visit: Visit) -> Visit:
    return Visit.model_validate(visit.model_dump(mode="json", context={"reveal_secrets": True}))


# No options (each policy's defaults), or every option the five policies read, set to other values.
school_options = st.sampled_from([{}, {"evening_from": "18:30", "school_day": ["08:00", "16:00"], "delegates": ["s1"]}])


@pytest.mark.parametrize("school", SCHOOLS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), now=moments, options=school_options)
def test_any_well_formed_visit_evaluates_for_every_stage_and_is_deterministic(school, data, now, options):
    visit = data.draw(visits(school))
    first = POLICIES.all_findings(visit, now, options)
    assert AGAIN.all_findings(same_visit_again(visit), now, options) == first
    # The same instant written on the other clock gives the same findings.
    other_clock = now.astimezone(timezone.utc if now.tzinfo is LONDON else LONDON)
    assert POLICIES.all_findings(visit, other_clock, options) == first
    declared = {r.rule_id: r for r in POLICIES.rules(school)}
    for finding in first:
        rule = declared[finding.rule_id]
        assert finding.stage is rule.stage
        assert finding.rule_id.split(".")[0] in {"core", school}
        assert finding.message.strip() and finding.clause.strip()
        assert isinstance(finding.severity, Severity)


@pytest.mark.parametrize("school", SCHOOLS)
@settings(max_examples=20, deadline=None)
@given(data=st.data(), now=moments)
def test_stage_by_stage_equals_all_stages(school, data, now):
    visit = data.draw(visits(school))
    staged = [f for stage in Stage for f in POLICIES.findings(visit, stage, now)]
    assert staged == POLICIES.all_findings(visit, now)


def assert_as_validated(finding: Finding) -> None:
    """``finding`` is what validating its values builds: equal, field by field of the same type, and frozen."""
    validated = Finding.model_validate(dict(finding.__dict__))
    assert finding == validated
    assert {k: type(v) for k, v in finding.__dict__.items()} == {k: type(v) for k, v in validated.__dict__.items()}
    assert list(finding.__dict__) == list(validated.__dict__)
    assert finding.model_fields_set == validated.model_fields_set
    assert finding.model_dump_json() == validated.model_dump_json()
    assert hash(finding) == hash(validated)
    with pytest.raises(ValidationError):
        finding.message = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("school", SCHOOLS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), now=moments)
def test_every_finding_of_every_school_is_what_validation_would_build(school, data, now):
    for finding in POLICIES.all_findings(data.draw(visits(school)), now):
        assert_as_validated(finding)


severities = st.one_of(st.none(), st.sampled_from(list(Severity)), st.sampled_from([s.value for s in Severity]))
field_paths = st.one_of(st.none(), st.lists(st.sampled_from(["staff", "reason", "risk_assessment.code_word"]), max_size=3),
                        st.lists(st.sampled_from(["staff", "outcome"]), max_size=2).map(tuple))


@settings(max_examples=100, deadline=None)
@given(message=st.text(min_size=1), severity=severities, fields=field_paths, as_verdict=st.booleans())
def test_any_answer_a_check_gives_makes_the_finding_validation_would(message, severity, fields, as_verdict):
    # A check may answer a message, a Verdict, or several; a plugin may give a severity as its text and fields as a list.
    book = RuleBook("spy")
    answer = Verdict(message, severity=severity, fields=fields) if as_verdict else message

    @book.rule("spy.rule", stage=Stage.REQUEST, severity=Severity.BLOCK, clause="Spy §1", summary="A rule.",
               fields=("address",))
    def check(visit, ctx):
        return [answer, answer] if as_verdict else answer

    visit = Visit.model_validate(base_visit("spy", reason="attendance"))
    found = book.findings(visit, Stage.REQUEST, PolicyContext(now=DEFAULT_NOW))
    expected = Finding(rule_id="spy.rule", stage=Stage.REQUEST, message=message, clause="Spy §1",
                       severity=(severity if as_verdict and severity is not None else Severity.BLOCK),
                       fields=(fields if as_verdict and fields is not None else ("address",)))
    assert found == [expected] * len(found) and len(found) == (2 if as_verdict else 1)
    for finding in found:
        assert_as_validated(finding)
    # Asked again (the finding is shared now): the same answer again.
    assert book.findings(visit, Stage.REQUEST, PolicyContext(now=DEFAULT_NOW)) == found


@pytest.mark.parametrize("answer", ["", Verdict(""), [Verdict("Fine."), Verdict("")]])
def test_a_check_answering_an_empty_message_is_the_plugins_error_naming_the_rule(answer):
    book = RuleBook("spy")
    book.rule("spy.rule", stage=Stage.REQUEST, severity=Severity.WARN, clause="Spy §1", summary="A rule.")(
        lambda visit, ctx: answer)
    visit = Visit.model_validate(base_visit("spy", reason="attendance"))
    with pytest.raises(PluginContractError, match="rule 'spy.rule' answered an empty message: return None"):
        book.findings(visit, Stage.REQUEST, PolicyContext(now=DEFAULT_NOW))


def test_every_school_is_checked():
    assert set(FIVE) <= set(SCHOOLS)
