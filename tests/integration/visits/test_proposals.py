"""Visits proposed from attendance: the worklist after a refresh, the DSL team's decisions, and what closes itself.

Potton's pupil A1000000002 attends 61 of 100 sessions, their absences all unauthorised: persistent absence, 10
unauthorised sessions in 10 weeks, and below Potton's 70% line (a referral, not a visit). A1000000001 attends 92 of
100: nothing. Birchwood's pupil attends 85 of 100.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from visitkit import NOW, potton_request

from hv_connector.models import Proposes
from hv_connector.proposals.decide import ProposalDesk
from hv_connector.proposals.refresh import refresh_school
from hv_connector.read.proposals import list_proposals, school_lines
from hv_connector.store.schema import audit, proposals, pupil_session_marks
from tests.markkit import mark_rows

LOW = "A1000000002"


def refreshed(service, school="potton", days=14):
    with service.store.begin() as conn:
        return refresh_school(conn, school, service.policies.triggers(school), now=service.clock.now(),
                              recent_visit_days=days)


def open_list(service, school="potton"):
    with service.store.connect() as conn:
        return list_proposals(conn, [school])


def test_a_refresh_proposes_what_the_pupil_meets_and_nothing_for_the_pupil_who_attends(service):
    done = refreshed(service)
    rows = open_list(service)
    assert done.pupils == 2 and done.opened == len(rows)
    assert {r.pupil_mis_id for r in rows} == {LOW}
    found = {r.trigger.id: r for r in rows}
    assert {"core.persistent-absence", "core.unauthorised-sessions", "potton.below-70"} <= set(found)
    assert found["potton.below-70"].trigger.proposes is Proposes.NOTIFY_LOCAL_AUTHORITY
    assert found["potton.below-70"].figures["measures"]["attendance-3-months"] == 61.0
    assert [r.trigger.urgency.rank for r in rows] == sorted(r.trigger.urgency.rank for r in rows)


def test_a_second_refresh_makes_no_duplicate_while_one_is_open(service):
    first = {r.id for r in (refreshed(service), open_list(service))[1]}
    again = refreshed(service)
    assert again.opened == 0 and again.still_open == len(first)
    assert {r.id for r in open_list(service)} == first


def test_a_pupil_who_no_longer_meets_a_trigger_has_it_closed_with_the_reason_and_it_is_audited(service):
    refreshed(service)
    with service.store.begin() as conn:  # the office corrects the register: every session attended
        conn.execute(delete(pupil_session_marks).where(pupil_session_marks.c.pupil_mis_id == LOW))
        conn.execute(pupil_session_marks.insert(), mark_rows("potton", LOW, 100, 100, NOW.date()))
    done = refreshed(service)
    assert done.closed > 0 and open_list(service) == []
    with service.store.connect() as conn:
        closed = conn.execute(select(proposals.c.status, proposals.c.closed_reason)).all()
        logged = conn.execute(select(audit.c.action).where(audit.c.action == "proposal.closed")).all()
    assert {status for status, _ in closed} == {"closed"}
    assert all("no longer meets" in reason for _, reason in closed)
    assert len(logged) == done.closed


def test_a_dismissed_proposal_is_not_proposed_again_while_the_pupil_still_meets_it(service):
    refreshed(service)
    target = open_list(service)[0]
    ProposalDesk(service).dismiss(target.id, by="pt-head", reason="Family known to the LA; plan in place")
    again = refreshed(service)
    assert again.opened == 0
    assert target.id not in {r.id for r in open_list(service)}


def test_a_pupil_with_a_recent_visit_is_shown_as_visited_not_proposed_blindly(service):
    service.request(potton_request(pupil=LOW), by="pt-v1")
    refreshed(service)
    assert all(r.recent_visit and r.recent_visit["state"] == "requested" for r in open_list(service))
    assert "visit v-" in open_list(service)[0].visited_line()


def test_a_school_with_no_attendance_gets_no_proposals_and_a_line_saying_why(service):
    with service.store.begin() as conn:
        conn.execute(delete(pupil_session_marks))
    done = refreshed(service)
    assert done.unavailable and "not available" in done.unavailable
    with service.store.connect() as conn:
        [line] = school_lines(conn, ["potton"])
    assert open_list(service) == [] and "not available" in (line.problem() or "")


# --- the command line --------------------------------------------------------------------------------


def proposals_json(hvc, *args):
    code, out, err = hvc("propose", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_before_any_evaluation_the_list_says_so_rather_than_show_nobody(hvc):
    code, out, _ = hvc("propose", "list")
    assert code == 0
    assert "potton: no proposals: attendance not evaluated yet" in out
    assert "birchwood: no proposals" in out


def test_propose_accept_requests_a_visit_through_the_normal_path_for_an_allowed_role_only(hvc):
    code, out, _ = hvc("propose", "refresh")
    assert code == 0 and "potton:" in out and "new" in out
    visit_proposal = next(p for p in proposals_json(hvc, "--school", "potton")["proposals"]
                          if p["trigger"]["proposes"] == "visit")
    code, _, err = hvc("propose", "accept", visit_proposal["id"], "--as", "pt-ta")
    assert code == 1 and "may not decide" in err
    code, out, err = hvc("propose", "accept", visit_proposal["id"], "--as", "pt-head", "--json")
    assert code == 0, err
    visit_id = json.loads(out)["visit"]
    code, shown, _ = hvc("visit", "show", visit_id, "--json")
    visit = json.loads(shown)["visit"]
    assert code == 0 and visit["state"] == "requested" and visit["visit"]["pupil"]["mis_id"] == LOW
    assert visit_proposal["id"] not in {p["id"] for p in proposals_json(hvc)["proposals"]}
    code, _, err = hvc("propose", "accept", visit_proposal["id"], "--as", "pt-head")
    assert code == 1 and "accepted already" in err


def test_propose_dismiss_needs_a_reason_and_records_it(hvc):
    hvc("propose", "refresh")
    target = proposals_json(hvc, "--school", "birchwood")["proposals"][0]
    code, _, _ = hvc("propose", "dismiss", target["id"], "--as", "bw-dsl")
    assert code == 2
    code, out, err = hvc("propose", "dismiss", target["id"], "--reason", "Moved to a school in Wales", "--as", "bw-dsl",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["proposal"]["note"] == "Moved to a school in Wales"


def test_propose_triggers_lists_each_school_s_with_its_clause(hvc):
    code, out, _ = hvc("propose", "triggers", "--school", "potton")
    assert code == 0
    assert "potton.below-70" in out and "Potton policy — 7. Attendance officer visits" in out
    assert "core.persistent-absence" in out and "[schools.potton.triggers] persistent_absence_percent" in out


def test_propose_triggers_prints_a_plugin_s_clause_on_its_one_line(hvc, monkeypatch):
    from hv_connector.cli import propose_cmd

    real = propose_cmd.school_triggers

    def hostile(rt, school_id):  # a plugin whose clause holds a line break and an escape
        return [t.model_copy(update={"clause": "7. Visits\nFORGED line\x1b[8m"}) for t in real(rt, school_id)]
    monkeypatch.setattr(propose_cmd, "school_triggers", hostile)
    code, out, _ = hvc("propose", "triggers", "--school", "potton")
    assert code == 0 and "7. Visits\\x0aFORGED line\\x1b[8m" in out and "\nFORGED" not in out
