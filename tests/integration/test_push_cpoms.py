"""Push to the loopback fake CPOMS (on SQLite, then PostgreSQL): what arrives, what is parked and why, and that no
token leaks."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from hv_connector import humanize
from hv_connector.builtin.cpoms_sink import CpomsSink
from hv_connector.clients.cpoms.client import CpomsClient
from hv_connector.outbox.push import Pusher, PushSummary
from hv_connector.read.queries import outbox_rows
from hv_connector.store import Store, audit
from hvc_fixtures.cpoms_server import CATEGORIES
from hvc_fixtures.data import Dataset
from hvc_fixtures.serve import RunningServer
from tests.cpomskit import demo_visit, hvc, kit_policies, queue, write_config
from tests.ptykit import run_in_pty

SEED, PUPILS = 1, 60
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
TOKEN = "test-token-birchwood"
DATASET = Dataset(SEED, PUPILS)


@pytest.fixture
def config(tmp_path: Path, database_url: str, cpoms_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_config(tmp_path / "hvc.toml", database_url, cpoms_server.api, {"birchwood": TOKEN})
    monkeypatch.setenv("HVC_CONFIG", str(path))
    return path


def finished(n: int, **outcome: object):
    return demo_visit(DATASET, "birchwood", n, visit_id=f"v-{n}", **outcome)


def pusher(store: Store, server: RunningServer, token: str = TOKEN, **client: object) -> Pusher:
    """A pusher whose client does not wait between tries (the tests control failures exactly)."""
    def sink_for(_school: str) -> CpomsSink:
        return CpomsSink(CpomsClient(server.api, SecretStr(token), school_id="birchwood", token_setting="the token",
                                     min_wait=0, max_wait=0, **client))
    return Pusher(store, sink_for, now=lambda: NOW)


def test_hvc_push_delivers_reports_and_the_concern_alerts_the_dsl(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = kit_policies("birchwood")
    queue(store, policies, [finished(1), finished(2, cp_concern=True, concerns="Bruise on the arm.")], NOW)
    code, out, _err = hvc(capsys, "push")
    assert code == 0
    assert out.strip().splitlines()[-1].endswith(" sent 3, already there 0, written for entry 0, parked 0, waiting 0")
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line) for line in out.splitlines())  # for cron's log
    incidents = cpoms_server.fake.incidents
    assert [(i["kind"], i["source"]["record_id"]) for i in incidents] == [
        ("concern", "v-2/concern"), ("home_visit", "v-1"), ("home_visit", "v-2")]
    concern = incidents[0]
    assert concern["category_ids"] == [11, 7]  # Child Protection, Home Visit: mapped by name
    assert concern["status"] == "recorded" and concern["student_id"] == 3
    assert {a["staff_email"] for a in concern["alerts"]} == {
        s.email for s in DATASET.staff("birchwood") if "dsl" in s.roles}
    routine = incidents[1]
    assert routine["occurred_at"].startswith("2026-11-20T10:07:00")
    assert routine["home_visit"]["outcome"] == "child_seen"
    assert "The child's own words: \"I don't like the bus in the morning.\"" in routine["description"]
    assert "bluebell" not in json.dumps(incidents).lower()  # the code word never reaches CPOMS

    code, out, _err = hvc(capsys, "outbox", "list", "--json")
    assert {r["status"] for r in json.loads(out)} == {"sent"}
    assert hvc(capsys, "push")[1].strip().splitlines()[-1].endswith(
        " sent 0, already there 0, written for entry 0, parked 0, waiting 0")
    assert len(cpoms_server.fake.incidents) == 3


def test_a_refused_record_is_parked_listed_and_retried_once_fixed(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stale = finished(4).model_copy(update={"pupil": finished(4).pupil.model_copy(update={"upn": "X999999999999"})})
    [outbox_id] = queue(store, kit_policies("birchwood"), [stale], NOW)
    code, out, _err = hvc(capsys, "push")
    assert code == 1 and "parked 1" in out
    code, out, _err = hvc(capsys, "outbox", "list", "--status", "parked")
    assert "PARKED" in out and "422 student_not_found" in out and "student: student_not_found" in out
    assert "Check the pupil is on roll in CPOMS" in out  # and what to do about it

    _code, shown, _err = hvc(capsys, "outbox", "show", str(outbox_id), "--json")
    record = json.loads(shown)
    record["payload"]["upn"] = DATASET.pupil("birchwood", 4).upn
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(record))
    dsl = next(s.id for s in DATASET.staff("birchwood") if "dsl" in s.roles)
    with config.open("a") as handle:
        handle.write(f'[[staff.birchwood]]\nid = "{dsl}"\nname = "Dee Ess"\nroles = ["dsl"]\n')
    code, out, _err = hvc(capsys, "outbox", "retry", str(outbox_id), "--as", dsl, "--fixed", str(fixed), "--json")
    assert code == 0 and json.loads(out)["status"] == "pending"
    code, out, _err = hvc(capsys, "push")
    assert code == 0 and "sent 1" in out
    [incident] = cpoms_server.fake.incidents
    assert incident["source"] == {"system": "hv-connector", "record_id": "v-4", "revision": 2}


def test_a_category_the_school_lacks_is_parked_with_how_to_map_it(
    store: Store, config: Path, make_cpoms_server, capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renamed = [c.model_copy(update={"name": "Welfare Visit"}) if c.name == "Home Visit" else c for c in CATEGORIES]
    server = make_cpoms_server(SEED, PUPILS, categories=renamed)
    path = write_config(tmp_path / "renamed.toml", database_url, server.api, {"birchwood": TOKEN})
    monkeypatch.setenv("HVC_CONFIG", str(path))
    [outbox_id] = queue(store, kit_policies("birchwood"), [finished(5)], NOW)
    code, out, _err = hvc(capsys, "push")
    assert code == 1
    _code, listed, _err = hvc(capsys, "outbox", "list")
    assert "no CPOMS category named 'Home Visit'" in listed and "[schools.birchwood.sink.category_map]" in listed
    assert server.fake.stats.by_path.get("POST /api/v1/incidents") is None  # refused before sending

    with path.open("a") as handle:
        handle.write('[schools.birchwood.sink.category_map]\n"Home Visit" = "Welfare Visit"\n'
                     '[[staff.birchwood]]\nid = "it-1"\nname = "I. T."\nroles = ["admin"]\n')
    assert hvc(capsys, "outbox", "retry", str(outbox_id), "--as", "it-1")[0] == 0
    assert hvc(capsys, "push")[0] == 0
    assert server.fake.incidents[0]["category_ids"] == [7]


def test_an_answer_dropped_after_cpoms_stored_it_arrives_once(store: Store, cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(n) for n in range(1, 6)], NOW)
    cpoms_server.fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=3)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert summary.count("sent") + summary.count("already-there") == 5
    assert cpoms_server.fake.stats.dropped == 3
    assert sorted(i["source"]["record_id"] for i in cpoms_server.fake.incidents) == [f"v-{n}" for n in range(1, 6)]


def test_within_one_push_a_lost_answer_is_asked_for_never_posted_again(store: Store,
                                                                       cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(n) for n in range(1, 6)], NOW)
    fake = cpoms_server.fake
    fake.configure(idempotency=False)  # a receiver that ignores Idempotency-Key: each POST stores a record
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=3)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert (summary.count("already-there"), summary.count("sent"), fake.stats.dropped) == (3, 2, 3)
    assert sorted(i["source"]["record_id"] for i in fake.incidents) == [f"v-{n}" for n in range(1, 6)]


def test_a_record_that_may_have_landed_is_asked_for_not_sent_again(store: Store, cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    fake = cpoms_server.fake
    fake.configure(idempotency=False)  # as CPOMS may be: or it kept the key a day, not for ever
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=None)
    lost = asyncio.run(pusher(store, cpoms_server, attempts=1).run())
    assert lost.count("waiting") == 1 and len(fake.incidents) == 1  # CPOMS has it; we never heard
    fake.clear_faults()
    later = asyncio.run(pusher(store, cpoms_server).run(ignore_backoff=True))
    assert (later.count("already-there"), later.count("sent")) == (1, 0)
    assert len(fake.incidents) == 1


def test_a_lookup_that_ignores_the_reference_finds_no_other_record(store: Store, cpoms_server: RunningServer) -> None:
    fake = cpoms_server.fake
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    assert asyncio.run(pusher(store, cpoms_server).run()).count("sent") == 1
    queue(store, kit_policies("birchwood"), [finished(2)], NOW)
    # A receiver whose GET /incidents answers every incident, whatever reference it is asked for.
    fake.configure(idempotency=False, reference_lookup="unfiltered")
    fake.inject(kind="drop", path="/incidents", method="POST", count=1)  # v-2's POST never arrives
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert (summary.count("sent"), summary.count("already-there")) == (1, 0)
    assert sorted(i["source"]["record_id"] for i in fake.incidents) == ["v-1", "v-2"]


def sent_again_unsure(store: Store, server: RunningServer, lost: str, **receiver: object) -> PushSummary:
    """v-1 sent; then v-2 pushed to a receiver that ignores the key and whose look-up cannot tell whose an incident
    is (set up further as ``receiver`` says), and v-2's answer is lost (``lost``: how): the client cannot tell
    whether v-2 landed and sends it again."""
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    assert asyncio.run(pusher(store, server).run()).count("sent") == 1
    queue(store, kit_policies("birchwood"), [finished(2)], NOW)
    # GET /incidents answers every incident whatever it is asked, and none says whose it is: v-1's looks like v-2's.
    server.fake.configure(idempotency=False, reference_lookup="unfiltered", echo_source=False, **receiver)
    server.fake.inject(kind=lost, path="/incidents", method="POST", count=1)  # v-2's answer is lost (and v-2: drop)
    return asyncio.run(pusher(store, server).run())


@pytest.mark.parametrize("lost", ["drop", "accept_then_drop"])
def test_a_lookup_that_ignores_the_reference_and_keeps_none_never_loses_a_record(
    lost: str, store: Store, cpoms_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = cpoms_server.fake
    with caplog.at_level(logging.WARNING, logger="hv_connector.outbox"):
        summary = sent_again_unsure(store, cpoms_server, lost)
    [outcome] = summary.outcomes
    stored = fake.incidents_for("v-2")
    assert len(fake.incidents_for("v-1")) == 1
    assert len(stored) == (1 if lost == "drop" else 2)  # never 0; twice only where it was stored before the loss
    assert (outcome.result, outcome.remote_id) == ("sent", str(stored[-1]["id"]))  # v-2's own incident, not v-1's
    [warned] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "twice" in r.getMessage()]
    assert f"outbox record {outcome.outbox_id} (birchwood, " in warned and "'v-2'" in warned


def test_a_record_that_may_be_in_cpoms_twice_is_kept_so_audited_and_marked_for_a_person_to_check(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    [outcome] = sent_again_unsure(store, cpoms_server, "accept_then_drop").outcomes
    assert len(cpoms_server.fake.incidents_for("v-2")) == 2
    with store.connect() as conn:
        doubts = {r.id: r.doubt for r in outbox_rows(conn)}
        [entry] = [e for e in audit.history(conn, "v-2") if e.action == "outbox.may-be-twice"]
    doubt = doubts.pop(outcome.outbox_id)
    assert doubt == outcome.message and "may now hold record 'v-2' twice" in doubt
    assert set(doubts.values()) == {None}  # v-1 went once
    assert entry.detail == {"outbox_id": outcome.outbox_id, "kind": "home-visit", "record_id": "v-2",
                            "cpoms_id": outcome.remote_id, "doubt": doubt}

    _code, listed, _err = hvc(capsys, "outbox", "list")
    twice = [line for line in listed.splitlines() if "twice" in line]
    assert twice[0].startswith(f"#{outcome.outbox_id} ") and twice[0].endswith(
        f"sent {humanize.moment(NOW)} as record {outcome.remote_id} — may be in CPOMS twice: check CPOMS and merge "
        "the copies")
    assert twice[1] == f"       {doubt}" and len(twice) == 2
    listed_json = {r["id"]: r["doubt"] for r in json.loads(hvc(capsys, "outbox", "list", "--json")[1])}
    assert listed_json[outcome.outbox_id] == doubt
    shown = hvc(capsys, "outbox", "show", str(outcome.outbox_id))[1]
    assert f"It may be in CPOMS twice: check CPOMS and merge the copies: {doubt}" in shown.splitlines()
    assert (f"Once you have looked: hvc outbox checked {outcome.outbox_id} --found one|two --as STAFF"
            in shown.splitlines())
    status = hvc(capsys, "status")[1]
    assert ("outbox: 1 record(s) may be in CPOMS twice: check CPOMS and merge the copies (`hvc outbox list` marks "
            "them; `hvc outbox checked ID --found one|two --as STAFF` once you have looked)") in status.splitlines()
    assert json.loads(hvc(capsys, "status", "--json")[1])["outbox_may_be_twice"] == 1


def test_a_record_in_cpoms_tray_that_may_be_there_twice_is_marked_in_the_list_as_hvc_status_says(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    [outcome] = sent_again_unsure(store, cpoms_server, "accept_then_drop", tray_always=True).outcomes
    assert outcome.result == "in-tray"
    assert "`hvc outbox list` marks them" in hvc(capsys, "status")[1]
    [line] = [line for line in hvc(capsys, "outbox", "list")[1].splitlines() if line.startswith(f"#{outcome.outbox_id} ")]
    # Whoever attaches it from the tray is told to look there for the second copy, as for a record sent.
    assert line.endswith(f"`hvc outbox confirm {outcome.outbox_id} --ref {outcome.remote_id} --as STAFF` — may be in "
                         "CPOMS twice: check CPOMS and merge the copies"), line


CHECKERS = ('[[staff.birchwood]]\nid = "bw-dsl"\nname = "Dee Ess"\nroles = ["dsl"]\n\n'
            '[[staff.birchwood]]\nid = "bw-ta"\nname = "Tom Assistant"\nroles = ["teacher"]\n')
"""Birchwood's staff directory for ``hvc outbox checked``: one of the DSL team, and a teacher who is not."""


def test_a_record_that_may_be_in_cpoms_twice_is_checked_once_by_the_dsl_team_and_no_longer_counted(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    [outcome] = sent_again_unsure(store, cpoms_server, "accept_then_drop").outcomes
    twice = str(outcome.outbox_id)
    with store.connect() as conn:
        [once] = [str(r.id) for r in outbox_rows(conn) if r.doubt is None]
        before = {r.id: r for r in outbox_rows(conn)}
    with config.open("a") as handle:
        handle.write(CHECKERS)

    refusals = [(("--as", "bw-dsl"), 2, "Missing option '--found'"),  # no default: the person says what they saw
                (("--found", "three", "--as", "bw-dsl"), 2, "'three' is not one of 'one', 'two'"),
                (("--found", "one", "--as", "bw-ta"), 1, "Tom Assistant is not on the DSL team"),
                (("--found", "one", "--as", "nobody"), 2,
                 "--as 'nobody' is not in school birchwood's staff directory ([[staff.birchwood]] in hvc.toml)")]
    for args, code, said in refusals:
        refused = hvc(capsys, "outbox", "checked", twice, *args)
        assert (refused[0], said in refused[2]) == (code, True), refused
    refused = hvc(capsys, "outbox", "checked", "999", "--found", "one", "--as", "bw-dsl")
    assert refused[0] != 0 and "there is no outbox record 999" in refused[2]
    refused = hvc(capsys, "outbox", "checked", once, "--found", "one", "--as", "bw-dsl")
    assert refused[0] == 1 and f"outbox record {once} is not marked as maybe in CPOMS twice" in refused[2]
    with store.connect() as conn:
        assert {r.id: r for r in outbox_rows(conn)} == before  # nothing written
        assert [e for e in audit.history(conn, "v-2") if e.action == "outbox.twice-checked"] == []

    code, out, _err = hvc(capsys, "outbox", "checked", twice, "--found", "two", "--as", "bw-dsl")
    with store.connect() as conn:
        record = {r.id: r for r in outbox_rows(conn)}[outcome.outbox_id]
        [entry] = [e for e in audit.history(conn, "v-2") if e.action == "outbox.twice-checked"]
    checked = f"checked by Dee Ess on {humanize.moment(record.doubt_checked_at)}: two copies, the extra one merged"
    assert code == 0 and out.strip() == f"Outbox record #{twice} (CPOMS record {outcome.remote_id}) is {checked}."
    assert (record.doubt, record.doubt_checked_by, record.doubt_found) == (outcome.message, "Dee Ess", "two")
    assert entry.actor == "bw-dsl" and entry.detail.items() >= {
        "outbox_id": outcome.outbox_id, "kind": "home-visit", "cpoms_id": outcome.remote_id, "found": "two",
        "checked_by": "Dee Ess"}.items()

    status = hvc(capsys, "status")[1]
    assert "twice" not in status
    assert json.loads(hvc(capsys, "status", "--json")[1])["outbox_may_be_twice"] == 0
    listed = hvc(capsys, "outbox", "list")[1].splitlines()
    assert [line for line in listed if line.startswith(f"#{twice} ")][0].endswith(
        f"sent {humanize.moment(NOW)} as record {outcome.remote_id} — {checked}")
    assert not [line for line in listed if "merge the copies" in line]
    [listed_json] = [r for r in json.loads(hvc(capsys, "outbox", "list", "--json")[1]) if r["id"] == outcome.outbox_id]
    assert (listed_json["doubt"], listed_json["doubt_checked_by"], listed_json["doubt_found"]) == (
        outcome.message, "Dee Ess", "two") and listed_json["doubt_checked_at"]
    shown = hvc(capsys, "outbox", "show", twice)[1]
    assert f"It might have been in CPOMS twice ({outcome.message}): {checked}" in shown.splitlines()

    again = hvc(capsys, "outbox", "checked", twice, "--found", "one", "--as", "bw-dsl")
    assert again[0] == 1 and f"outbox record {twice} was {checked}; it is checked once" in again[2]
    with store.connect() as conn:
        assert len([e for e in audit.history(conn, "v-2") if e.action == "outbox.twice-checked"]) == 1


def test_without_a_lookup_by_reference_a_lost_answer_is_parked_never_sent_twice(
    store: Store, cpoms_server: RunningServer
) -> None:
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    fake = cpoms_server.fake
    fake.configure(idempotency=False, reference_lookup="absent")  # GET /incidents?source_… answers 404
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=1)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert (summary.count("parked"), summary.count("sent")) == (1, 0)
    assert len(fake.incidents) == 1


def test_a_receiver_that_keeps_no_reference_to_read_back_is_trusted_by_its_filter(store: Store,
                                                                               cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(n) for n in range(1, 4)], NOW)
    fake = cpoms_server.fake
    fake.configure(echo_source=False, idempotency=False)  # rows found by reference do not say whose they are
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=2)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert (summary.count("sent"), summary.count("already-there")) == (1, 2)
    assert sorted(i["source"]["record_id"] for i in fake.incidents) == ["v-1", "v-2", "v-3"]


def test_a_receiver_that_keeps_our_reference_without_its_revision_is_matched_by_the_reference(
    store: Store, cpoms_server: RunningServer
) -> None:
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    fake = cpoms_server.fake
    fake.configure(echo_revision=False, idempotency=False)  # rows found say whose record they are, not which revision
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=1)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    assert summary.count("already-there") == 1
    assert len(fake.incidents_for("v-1")) == 1


def test_a_receiver_that_trays_every_record_unmatched_stores_each_once(store: Store,
                                                                       cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(n) for n in range(1, 4)], NOW)
    fake = cpoms_server.fake
    # As CPOMS takes a partner's records today: into its tray, for a person to attach to the pupil.
    fake.configure(tray_always=True, idempotency=False)
    fake.inject(kind="accept_then_drop", path="/incidents", method="POST", count=1)
    summary = asyncio.run(pusher(store, cpoms_server).run())
    # In CPOMS but on no pupil's chronology: not sent, in the tray (the one whose answer was lost found there).
    assert (summary.count("sent"), summary.count("already-there"), summary.count("in-tray")) == (0, 0, 3)
    assert sorted(i["source"]["record_id"] for i in fake.incidents) == ["v-1", "v-2", "v-3"]
    assert {(i["status"], i["student_id"]) for i in fake.incidents} == {("tray", None)}
    with store.connect() as conn:
        assert {(r.status, r.cpoms_id) for r in outbox_rows(conn)} == {("in-tray", str(i["id"])) for i in fake.incidents}


def test_a_record_in_the_tray_is_listed_to_attach_never_sent_again_and_confirming_closes_it(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    visit = finished(2, cp_concern=True, concerns="Bruise on the arm.")
    pupil = visit.pupil.model_copy(update={"native_id": "MIS-4471", "date_of_birth": date(2015, 3, 9)})
    concern, routine = queue(store, kit_policies("birchwood"), [visit.model_copy(update={"pupil": pupil})], NOW)
    cpoms_server.fake.configure(tray_always=True)
    code, out, _err = hvc(capsys, "push")
    assert code == 0 and out.strip().splitlines()[-1].endswith(
        " sent 0, already there 0, written for entry 0, in CPOMS's tray to attach 2, parked 0, waiting 0")
    [tray_id] = [str(i["id"]) for i in cpoms_server.fake.incidents if i["kind"] == "concern"]
    who = f"{pupil.name} (UPN {pupil.upn}, MIS id MIS-4471, born 09 Mar 2015)"
    assert (f"in-tray       #{concern} birchwood concern: in CPOMS's Incident Tray as incident {tray_id}: attach it to"
            " its pupil (`hvc outbox show` names them)") in out
    assert pupil.name not in out and "MIS-4471" not in out  # the push's output is cron's log: no pupil named there

    code, listed, _err = hvc(capsys, "outbox", "list")
    assert f"IN TRAY: in CPOMS's Incident Tray as incident {tray_id}: attach it to {who}" in listed
    assert "AWAITING ENTRY" not in listed and "sent" not in listed
    _code, shown, _err = hvc(capsys, "outbox", "show", str(concern))
    assert f"It is in CPOMS's Incident Tray as incident {tray_id}: attach it to {who}" in shown
    _code, status, _err = hvc(capsys, "status")
    assert "outbox: 2 in-tray" in status

    assert hvc(capsys, "push", "--all")[1].strip().splitlines()[-1].endswith(" sent 0, already there 0, "
                                                                          "written for entry 0, parked 0, waiting 0")
    assert len(cpoms_server.fake.incidents) == 2  # it is in CPOMS: never sent again

    dsl = next(s.id for s in DATASET.staff("birchwood") if "dsl" in s.roles)
    with config.open("a") as handle:
        handle.write(f'[[staff.birchwood]]\nid = "{dsl}"\nname = "Dee Ess"\nroles = ["dsl"]\n')
    code, out, _err = hvc(capsys, "outbox", "confirm", str(concern), "--ref", tray_id, "--as", dsl)
    assert code == 0 and out.strip() == (f"Outbox record #{concern} is done: attached to {pupil.name} in CPOMS as "
                                         f"incident {tray_id}, confirmed by Dee Ess.")
    with store.connect() as conn:
        [confirmed] = [e for e in audit.history(conn, "v-2") if e.action == "outbox.confirmed"]
        assert {r.id: r.status for r in outbox_rows(conn)} == {concern: "sent", routine: "in-tray"}
    assert (confirmed.actor, confirmed.detail["cpoms_ref"], confirmed.detail["attached"]) == (dsl, tray_id, True)


def test_a_record_in_the_tray_is_shown_as_cpoms_holds_it_never_as_a_block_to_enter_again(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    [concern, _routine] = queue(store, kit_policies("birchwood"),
                                [finished(2, cp_concern=True, concerns="Bruise on the arm.")], NOW)
    cpoms_server.fake.configure(tray_always=True)
    assert hvc(capsys, "push")[0] == 0
    _code, shown, _err = hvc(capsys, "outbox", "show", str(concern))
    # It is in CPOMS already: a paste block saying "enter in CPOMS first" would have the DSL team enter it twice.
    assert "enter in CPOMS first" not in shown and "paste from here" not in shown
    assert "do not enter it again" in shown and "Bruise on the arm." in shown


def test_cpoms_down_leaves_records_waiting_then_they_go(store: Store, cpoms_server: RunningServer) -> None:
    queue(store, kit_policies("birchwood"), [finished(1), finished(2)], NOW)
    cpoms_server.fake.inject(status=503, count=None)
    down = asyncio.run(pusher(store, cpoms_server).run())
    assert (down.count("waiting"), down.exit_code) == (2, 1)
    cpoms_server.fake.clear_faults()
    back = asyncio.run(pusher(store, cpoms_server).run(ignore_backoff=True))
    assert back.count("sent") + back.count("already-there") == 2
    assert len(cpoms_server.fake.incidents) == 2
    with store.connect() as conn:
        assert {r.status for r in outbox_rows(conn)} == {"sent"}


@pytest.mark.parametrize("fault", [{"status": 503, "count": 1}, {"kind": "drop", "count": 1}])
def test_no_token_in_any_log_or_error_output(
    store: Store, config: Path, cpoms_server: RunningServer, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, fault: dict, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    cpoms_server.fake.inject(**fault)
    with caplog.at_level(logging.DEBUG):
        _code, out1, err1 = hvc(capsys, "push")
    wrong = "wrong-token-SECRET-42"
    queue(store, kit_policies("birchwood"), [finished(2)], NOW)
    monkeypatch.setenv("HVC_CONFIG", str(write_config(tmp_path / "bad.toml", database_url, cpoms_server.api,
                                                       {"birchwood": wrong})))
    with caplog.at_level(logging.DEBUG):
        code, out2, err2 = hvc(capsys, "push")
        _c, listed, _e = hvc(capsys, "outbox", "list")
        _c, shown, _e = hvc(capsys, "config", "show")
    assert code == 1 and "401" in listed and "token" in listed
    everything = "\n".join([out1, err1, out2, err2, listed, shown, caplog.text])
    assert "CPOMS retry" in caplog.text  # the retry was logged ...
    assert TOKEN not in everything and wrong not in everything  # ... without the token


def test_a_school_without_cpoms_settings_is_bad_config_naming_the_setting(
    store: Store, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(config.read_text().replace('token = "test-token-birchwood"\n', ""))
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)
    code, _out, err = hvc(capsys, "push")
    assert code == 2
    assert "set `token` under [schools.birchwood.sink] in hvc.toml" in err


def test_the_push_bar_draws_on_a_terminal_and_shows_no_escape_as_text(store: Store, config: Path) -> None:
    queue(store, kit_policies("birchwood"), [finished(1), finished(2)], NOW)
    shown = run_in_pty("push", env={**os.environ, "TERM": "xterm-256color"})
    assert b"Pushing to CPOMS" in shown and b"\r" in shown  # a bar redrawn in place, as a terminal shows it
    assert b"\\x1b" not in shown and b"\\x0d" not in shown  # its own sequences are not escaped into text
    assert shown.strip().endswith(b"sent 2, already there 0, written for entry 0, parked 0, waiting 0")


def test_hvc_push_logs_through_the_neutralising_filter(
    store: Store, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as outside pytest: no handler until the command sets one up
    monkeypatch.setattr(root, "level", root.level)
    queue(store, kit_policies("birchwood"), [finished(1)], NOW)

    def hostile_count(*_args: object, **_kwargs: object) -> int:
        logging.getLogger("hv_connector.outbox").error("cannot push school %s: %s", "birchwood",
                                                       "CPOMS says no\n2026-11-20 all records sent")
        return 0
    monkeypatch.setattr(Pusher, "count_due", hostile_count)
    monkeypatch.setattr(Pusher, "run", lambda *_a, **_k: asyncio.sleep(0, result=PushSummary()))
    _code, _out, err = hvc(capsys, "push")
    assert "cannot push school birchwood: CPOMS says no\\x0a2026-11-20 all records sent\n" in err
