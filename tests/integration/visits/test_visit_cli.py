"""``hvc visit`` as staff use it: exit codes 0/1/2, JSON for scripts, the code word kept back,
and two processes authorising one visit at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from visitkit import CLOCK, NOW, REVIEW_WARNING, birchwood_request, potton_request, seed_pupils, write_config  # type: ignore[import-not-found]

from hv_connector.clock import FixedClock
from hv_connector.runtime import Runtime
from hv_connector.store import Store
from hv_connector.store.schema import visit_events
from hv_connector.visits.service import VisitService


def request_file(tmp_path: Path, document: dict) -> str:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_a_visit_from_request_to_report_on_the_command_line(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("visit", "request", "--file", request_file(tmp_path, potton_request()), "--as", "pt-v1", "--json")
    assert code == 0
    asked = json.loads(out)
    visit_id = asked["visit"]["id"]
    assert asked["visit"]["state"] == "requested"
    assert [f["rule_id"] for f in asked["findings"]] == [REVIEW_WARNING]

    code, _, err = hvc("visit", "authorise", visit_id, "--as", "pt-head")
    assert code == 1 and f"hvc: Visit {visit_id} cannot be authorised" in err and "--ack" in err
    code, out, _ = hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", REVIEW_WARNING)
    assert code == 0 and "is authorised" in out
    assert f"WARN   {REVIEW_WARNING}" in out and "(hv-connector core (shared baseline): policy in date)" in out
    for args in (("sign-out",), ("check-in", "--kind", "office-call", "--note", "All well."), ("return",)):
        code, out, err = hvc("visit", args[0], visit_id, *args[1:], "--as", "pt-v1")
        assert code == 0, err
        assert REVIEW_WARNING not in out  # acknowledged at authorisation: not reprinted by every later step
        assert f"(1 finding acknowledged or overridden earlier: `hvc visit show {visit_id}` lists them)" in out
    code, out, _ = hvc("visit", "report", visit_id, "--as", "pt-v1", "--child-seen", "--spoken-to",
                       "--discussion", "Attendance plan agreed.", "--action", "Call mum on Friday.", "--json")
    assert code == 0 and json.loads(out)["visit"]["state"] == "reported"

    code, out, _ = hvc("visit", "list", "--school", "potton", "--state", "reported", "--json")
    assert [v["id"] for v in json.loads(out)] == [visit_id]
    code, out, _ = hvc("visit", "show", visit_id)
    assert code == 0 and "request → requested  by Alex Visitor" in out and "report → reported  by Alex Visitor" in out
    assert "Code word:     agreed (hidden)" in out and "bluebell" not in out
    assert "child seen: yes" in out and "True" not in out
    assert "office-call by Alex Visitor" in out  # the check-in's maker by name, not pt-v1
    code, out, _ = hvc("outbox", "show", "1")  # the CPOMS text names who decided, not their staff ids
    assert code == 0 and "Visit authorised by Jo Watts-Test" in out
    assert f"Warning {REVIEW_WARNING} acknowledged by Jo Watts-Test" in out and "pt-head" not in out
    code, out, _ = hvc("audit", "show", visit_id)
    assert code == 0 and f"Jo Watts-Test authorised the visit, acknowledging {REVIEW_WARNING}." in out
    assert "Alex Visitor wrote the visit's report: child seen: yes; child protection concern: no." in out
    code, out, _ = hvc("visit", "close", visit_id, "--as", "pt-head", "--note", "Follow-up call made.")
    assert code == 0 and "is closed" in out and "Closed is final" in out


def test_each_command_in_a_test_happens_after_the_one_before(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The fixture's clock moves on between commands: what one command did is never stamped after the next."""
    code, out, _ = hvc("visit", "request", "--file", request_file(tmp_path, potton_request()), "--as", "pt-v1", "--json")
    visit_id = json.loads(out)["visit"]["id"]
    assert hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", REVIEW_WARNING)[0] == 0
    assert hvc("visit", "sign-out", visit_id, "--as", "pt-v1")[0] == 0
    with Store.open(f"sqlite:///{tmp_path / 'hvc.db'}") as store, store.connect() as conn:
        stamped = conn.execute(select(visit_events.c.event, visit_events.c.at).order_by(visit_events.c.id)).all()
    assert [event for event, _ in stamped] == ["request", "authorise", "sign-out"]
    assert stamped[0].at >= NOW
    assert all(earlier.at < later.at for earlier, later in zip(stamped, stamped[1:], strict=False))


def test_exit_codes_refused_is_1_and_bad_input_is_2(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("visit", "request", "--file", request_file(tmp_path, potton_request()), "--as", "pt-v1", "--json")
    visit_id = json.loads(out)["visit"]["id"]

    code, _, err = hvc("visit", "authorise", visit_id, "--as", "pt-ta", "--ack", REVIEW_WARNING)
    refusal = f"hvc: Tam Assist (pt-ta) may not authorise visit {visit_id}: potton's policy lets only headteacher do that"
    assert (code, err.strip()) == (1, refusal)
    code, _, err = hvc("visit", "sign-out", visit_id, "--as", "pt-v1")
    assert code == 1 and "is requested" in err and "allowed now: authorise, decline" in err
    code, _, err = hvc("visit", "request", "--file", request_file(tmp_path, potton_request(pupil="Z9")), "--as", "pt-v1")
    assert code == 2 and "pupil: there is no pupil 'Z9' at potton" in err
    code, _, err = hvc("visit", "request", "--school", "potton", "--pupil", "A1000000001", "--reason", "unexplained-absence",
                       "--start", "2026-11-23T10:00", "--minutes", "60", "--staff", "pt-v1", "--staff", "nobody",
                       "--as", "pt-v1")
    assert code == 2 and "staff[1]: 'nobody' is not in potton's staff directory" in err
    code, _, err = hvc("visit", "override", visit_id, "potton.code-word", "--reason", "x", "--as", "pt-head")
    assert code == 2 and "rule: potton.code-word is not a standing block" in err
    code, _, err = hvc("visit", "show", "v-nope")
    assert code == 2 and "there is no visit 'v-nope'" in err
    assert "Traceback" not in err


def test_a_request_from_options_alone(hvc) -> None:  # type: ignore[no-untyped-def]
    code, out, err = hvc("visit", "request", "--school", "birchwood", "--pupil", "B2000000001", "--reason", "attendance",
                         "--purpose", "Attendance plan.", "--start", "2026-11-23T10:00", "--minutes", "45",
                         "--staff", "bw-pastoral", "--staff", "bw-dsl", "--as", "bw-pastoral", "--json")
    assert code == 0, err
    visit = json.loads(out)["visit"]["visit"]
    assert (visit["address"], visit["expected_return"]) == ("3 Example Lane, Birchwood, WA3 0XX", "2026-11-23T10:45:00Z")
    assert [v["school"] for v in json.loads(hvc("visit", "list", "--as", "bw-dsl", "--json")[1])] == ["birchwood"]
    assert json.loads(hvc("visit", "list", "--as", "pt-head", "--json")[1]) == []
    code, _, err = hvc("visit", "list", "--as", "nobody")
    assert (code, err) == (2, "hvc: --as: 'nobody' is not in any school's staff directory; "
                              "use a directory id (`hvc config show` lists them)\n")


def test_the_code_word_is_shown_only_on_request_to_the_office(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("visit", "request", "--file", request_file(tmp_path, potton_request()), "--as", "pt-v1", "--json")
    visit_id = json.loads(out)["visit"]["id"]
    outputs = [out]
    for args in (("list", "--json"), ("show", visit_id, "--json"), ("show", visit_id)):
        code, out, _ = hvc("visit", *args)
        outputs.append(out)
    assert all("bluebell" not in text for text in outputs)
    assert hvc("visit", "show", visit_id, "--reveal-code-word")[0] == 2
    code, _, err = hvc("visit", "show", visit_id, "--reveal-code-word", "--as", "pt-v1")
    assert code == 1 and "may not see the code word" in err
    code, out, _ = hvc("visit", "show", visit_id, "--reveal-code-word", "--as", "pt-office")
    assert code == 0 and "Code word:     bluebell" in out


AUTHORISE = """
import sys
from hv_connector.cli import main
sys.exit(main(["visit", "authorise", sys.argv[1], "--as", sys.argv[2]]))
"""


def test_two_processes_authorising_at_once_one_wins_and_the_other_is_told_who(
        tmp_path: Path, database_url: str) -> None:
    config = write_config(tmp_path / "hvc.toml", database_url)
    with Store.open(database_url, upgrade=True) as store:
        seed_pupils(store)
        runtime = Runtime(config_path=config, clock=FixedClock(NOW), store=store)
        visit_id = VisitService.from_runtime(runtime).request(birchwood_request(), by="bw-pastoral").record.id
    env = {**os.environ, "HVC_CONFIG": str(config), "HVC_CLOCK_START": CLOCK}
    runs = [subprocess.Popen([sys.executable, "-c", AUTHORISE, visit_id, who], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for who in ("bw-dsl", "bw-slt")]
    results = [(run.wait(timeout=60), run.stdout.read(), run.stderr.read()) for run in runs]
    names = {"bw-dsl": "Bea Lead", "bw-slt": "Ben Senior"}
    winners = [who for who, (code, _, _) in zip(names, results, strict=True) if code == 0]
    assert len(winners) == 1, results
    loser_code, _, loser_err = next(r for r in results if r[0] != 0)
    assert loser_code == 1
    assert f"Visit {visit_id} was already authorised by {names[winners[0]]} at Mon 23 Nov 2026 08:00" in loser_err
