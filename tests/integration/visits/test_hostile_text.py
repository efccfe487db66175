"""A pupil whose name and notes hold terminal control sequences, printed by ``hvc pupil show`` and
``hvc visit list`` on a real terminal (a pty): the sequences show as text and never reach the terminal.

The pupil is written to the store raw, as a version before neutralising at the sync would have kept it,
so what is proven here is the second line of defence: the output itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import insert
from visitkit import potton_request  # type: ignore[import-not-found]

from hv_connector.store import Store
from hv_connector.store.schema import pupil_alerts, pupil_contacts, pupils
from tests.ptykit import run_in_pty

CLEAR_AND_RED = "\x1b[2J\x1b[31m"
LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
HIDE = "\x1b[8m"
BIDI = "\u202e"
HOSTILE_SURNAME = f"Smith{CLEAR_AND_RED}{LINK}{HIDE}\nForged line{BIDI}"
MIS_ID = "A1000000666"


def seed_hostile_pupil(url: str) -> None:
    key = {"school_id": "potton", "pupil_mis_id": MIS_ID}
    with Store.open(url) as store, store.begin() as conn:
        conn.execute(insert(pupils).values(
            school_id="potton", mis_id=MIS_ID, upn="UHOSTILE", forename="Eve", surname=HOSTILE_SURNAME,
            display_name=f"Eve {HOSTILE_SURNAME}", address_text=f"6 Example Road{HIDE}, Potton"))
        conn.execute(insert(pupil_contacts).values(
            **key, contact_mis_id="C666", name=f"Mal{CLEAR_AND_RED}lory", relationship=f"Father{LINK}",
            parental_responsibility=True, phones=[f"07700 900666{HIDE}"]))
        conn.execute(insert(pupil_alerts).values(**key, kind="court-order", text=f"Order{HIDE} terms hidden\nFAKE: none"))


def test_hostile_names_reach_a_real_terminal_as_visible_text(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hvc("visit", "list")  # configures and seeds the store
    seed_hostile_pupil(f"sqlite:///{tmp_path / 'hvc.db'}")
    request = tmp_path / "visit.json"
    request.write_text(json.dumps(potton_request(pupil=MIS_ID)), encoding="utf-8")
    code, out, err = hvc("visit", "request", "--file", str(request), "--as", "pt-v1", "--json")
    assert code == 0, err
    visit_id = json.loads(out)["visit"]["id"]
    env = {**os.environ, "TERM": "xterm-256color"}

    shown = run_in_pty("pupil", "show", MIS_ID, env=env)
    listed = run_in_pty("visit", "list", env=env)

    for output in (shown, listed):
        assert b"\x1b" not in output and b"\xe2\x80\xae" not in output  # no ESC, no raw U+202E
        assert b"\\x1b[2J\\x1b[31m" in output and b"\\x1b]8;;https://evil.example/" in output
        assert b"\\x1b[8m" in output and b"\\u202e" in output
    text = shown.decode()
    assert "Smith\\x1b[2J" in text and "\\x0aForged line" in text
    assert "Mal\\x1b[2J\\x1b[31mlory" in text and "Order\\x1b[8m terms hidden\\x0aFAKE: none" in text
    assert not any(line.startswith("Forged line") or line.startswith("FAKE") for line in text.splitlines())
    visit_line = next(line for line in listed.decode().splitlines() if line.startswith(visit_id))
    assert "Eve Smith" in visit_line and "\\x0aForged line\\u202e — unexplained-absence" in visit_line
