"""`hvc demo` sets up a world a safeguarding lead can explore: visits in every state, reports in CPOMS."""

import json
import sqlite3
import subprocess
import sys

import pytest

from hvc_fixtures.data import LOW_ATTENDANCE_PUPIL, STUDENT, Dataset
from hvc_fixtures.data import school as data_school
from hvc_fixtures.demo import demo_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with demo_world(tmp_path_factory.mktemp("demo") / "home", pupils=60) as running:
        yield running


def rows(world, query):
    with sqlite3.connect(world.home / "hvc.db") as db:
        return db.execute(query).fetchall()


def test_every_school_has_visits_in_every_state(world):
    out = {"signed-out", "overdue", "escalated"}  # the watch may already have moved the late ones on
    found = {(school, "out" if state in out else state) for school, state in rows(world, "select school_id, state from visits")}
    for school in ("birchwood", "hexthorpe", "potton", "st-edwards", "washwood-heath"):
        for state in ("requested", "authorised", "out", "reported"):
            assert (school, state) in found, f"{school} has no {state} visit"


def test_pending_visits_carry_blocks_and_warnings_for_the_lead_to_review(world):
    findings = " ".join(f for (f,) in rows(world, "select findings from visit_events where event = 'request'"))
    assert '"severity": "block"' in findings or '"severity":"block"' in findings
    assert '"severity": "warn"' in findings or '"severity":"warn"' in findings


def test_reports_reach_cpoms_and_an_unmatched_family_is_parked_with_a_reason(world):
    statuses = dict(rows(world, "select status, count(*) from outbox group by status"))
    # Potton is on the manual sink: its records wait for the DSL team to enter them; the others are in CPOMS.
    assert statuses.get("sent", 0) >= 4 and statuses.get("awaiting-entry", 0) >= 1
    written = rows(world, "select school_id from outbox where status = 'awaiting-entry'")
    assert {school for (school,) in written} == {"potton"}
    parked = rows(world, "select last_error from outbox where status = 'parked'")
    assert parked and all(reason for (reason,) in parked)


def test_the_markup_named_pupil_is_synced_as_text(world):
    assert rows(world, "select count(*) from pupils where forename = '[bold red]Test[/]'") == [(5,)]


def test_the_register_is_synced_for_the_school_year_so_the_briefing_has_figures(world):
    [(pupils, first, last)] = rows(world, "select count(distinct pupil_mis_id), min(day), max(day) "
                                          "from pupil_session_marks")
    assert pupils == 5 * 60 and first == "2026-09-03" and last == "2026-11-20"
    low = Dataset(1, 60).id(STUDENT, data_school("potton"), LOW_ATTENDANCE_PUPIL)
    shown = subprocess.run([sys.executable, "-m", "hv_connector", "pupil", "show", low, "--json"], env=world.env,
                           capture_output=True, text=True, check=True)
    figures = json.loads(shown.stdout)["attendance"]
    assert figures["as_of"] == "2026-11-23" and figures["last_3_months"]["attendance"] < 70
    assert figures["persistent_absence"]
