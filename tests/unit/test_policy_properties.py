"""Properties of the policy engine over every installed school: no well-formed visit
breaks it, findings are deterministic, and every finding is a declared rule at its stage."""

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hv_connector.models import Severity, Stage, Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.testing import staff

POLICIES = Policies(build_plugin_manager())
SCHOOLS = POLICIES.schools()
ROLES = ["dsl", "deputy-dsl", "slt", "headteacher", "line-manager", "office", "pflo", "admin", "pastoral", "teacher"]

# Instants from spring 2025 to spring 2027, so both clock changes and every hour of the day occur.
moments = st.datetimes(min_value=datetime(2025, 3, 1), max_value=datetime(2027, 4, 1),
                       timezones=st.just(timezone.utc))
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
def visits(draw) -> Visit:
    school = draw(st.sampled_from(SCHOOLS))
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
            lambda m: (start + timedelta(minutes=m)).isoformat()))),
        "travel": draw(st.sampled_from(["car", "foot", "public-transport", "other"])),
        "staff": draw(st.lists(people, max_size=3, unique_by=lambda p: p["id"])),
        "planned_with": draw(maybe_person),
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
        }))),
        "vehicle": draw(st.one_of(st.none(), st.fixed_dictionaries({"make": st.sampled_from(["", "Ford"]),
                                                                    "registration": st.sampled_from(["", "AB12 CDE"])}))),
        "external_referral": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "service": st.just("Early Help"), "coordinated": st.booleans(), "risk_plan": st.booleans()}))),
        "signed_out_at": draw(st.one_of(st.none(), st.just(start.isoformat()))),
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
            "child_seen": st.one_of(st.none(), st.booleans()), "cp_concern": st.booleans(),
            "violence_or_abuse": st.booleans(), "discussion": st.sampled_from(["", "Talked about mornings."]),
        }))),
    }
    for flag in flags:
        data[flag] = draw(st.booleans())
    return Visit.model_validate(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(visit=visits(), now=moments)
def test_any_well_formed_visit_evaluates_for_every_stage_and_is_deterministic(visit, now):
    first = POLICIES.all_findings(visit, now)
    again = Policies(build_plugin_manager()).all_findings(visit, now)
    assert first == again
    declared = {r.rule_id: r for r in POLICIES.rules(visit.school)}
    for finding in first:
        rule = declared[finding.rule_id]
        assert finding.stage is rule.stage
        assert finding.rule_id.split(".")[0] in {"core", visit.school}
        assert finding.message.strip() and finding.clause.strip()
        assert isinstance(finding.severity, Severity)


@settings(max_examples=100, deadline=None)
@given(visit=visits(), now=moments)
def test_stage_by_stage_equals_all_stages(visit, now):
    staged = [f for stage in Stage for f in POLICIES.findings(visit, stage, now)]
    assert staged == POLICIES.all_findings(visit, now)


def test_there_are_schools_to_check():
    assert len(SCHOOLS) >= 1
