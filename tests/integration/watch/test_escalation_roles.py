"""Only the people Potton's policy names act on an alarm, and no escalation note holds the code word.

Potton's chain: the office phones the staff (step 1), the headteacher is told
(step 2), the headteacher calls the police (step 3); only the headteacher
authorises. The directory adds a teacher on no step and an admin assistant who
works in the office.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import STAFF, START, add_visits, directory, make_watch, visit_document, write_config

from hv_connector.cli import main
from hv_connector.clock import FixedClock
from hv_connector.errors import InputError, RefusedError
from hv_connector.store import Store
from hv_connector.store.schema import audit, escalations
from hv_connector.testing import staff
from hv_connector.watch.escalations import Escalations
from tests.clockkit import CommandClock

PEOPLE = [*STAFF, staff("pt-teacher", "Tess Teacher", "teacher", mobile="07700 900107"),
          staff("pt-admin", "Ada Admin", "admin", "office", mobile="07700 900108")]
CODE_WORD = "bluebell"
"""The code word :func:`watchkit.add_visits` gives every visit."""

@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START + timedelta(minutes=20))


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> Escalations:
    """Potton's desk with visit V1 (Alex and Sam) overdue for its office call: step 1 (the office) has fired."""
    watch = make_watch(store, clock, people=directory(PEOPLE))
    add_visits(store, [visit_document("V1")])
    assert [(e.kind, e.step_index) for e in watch.tick().fired] == [("checkin-missed", 0)]
    return Escalations(watch)


def _police_step(desk: Escalations) -> int:
    """Take V1 up to Potton's last step ("call the police") as the headteacher would; its event id."""
    first = desk.list()[0].id
    second = desk.escalate_now(first, by="pt-head").id
    police = desk.escalate_now(second, by="pt-head")
    assert (police.step_index, police.who) == (2, ("headteacher",))
    return police.id


def _audit_text(store: Store) -> str:
    with store.connect() as conn:
        return repr(conn.execute(select(audit)).all())


def test_a_teacher_on_no_step_may_not_acknowledge_and_is_told_who_may(desk: Escalations) -> None:
    alarm = desk.list()[0]
    with pytest.raises(RefusedError) as refused:
        desk.ack(alarm.id, by="pt-teacher", note="probably fine")
    said = str(refused.value)
    assert said.startswith("Tess Teacher (pt-teacher) may not acknowledge escalation 1: "
                           "potton's policy lets only office or headteacher act on step 1")
    assert "Ola Office" in said and "Ada Admin" in said and "Jo Watts-Test" in said
    assert "Dee Lead" not in said and "Alex Visitor" not in said
    assert desk.get(alarm.id).acknowledged_by is None


def test_the_office_acknowledges_the_office_step(desk: Escalations) -> None:
    alarm = desk.list()[0]
    assert desk.ack(alarm.id, by="pt-admin", note="phoned, no answer").acknowledged_by == "pt-admin"


def test_a_teacher_may_neither_escalate_nor_stand_down(desk: Escalations) -> None:
    alarm = desk.list()[0]
    with pytest.raises(RefusedError, match=r"Tess Teacher \(pt-teacher\) may not escalate visit V1"):
        desk.escalate_now(alarm.id, by="pt-teacher")
    with pytest.raises(RefusedError, match=r"Tess Teacher \(pt-teacher\) may not stand down visit V1"):
        desk.stand_down("V1", by="pt-teacher", note="probably fine")
    assert [e.id for e in desk.list()] == [alarm.id]  # still open, and no step was fired


def test_the_police_step_is_stood_down_by_the_headteacher_not_the_office(desk: Escalations) -> None:
    police = _police_step(desk)
    with pytest.raises(RefusedError) as refused:
        desk.stand_down("V1", by="pt-admin", note="she'll be fine")
    assert str(refused.value) == ("Ada Admin (pt-admin) may not stand down visit V1: potton's policy lets only "
                                  "headteacher act on step 3 (checkin-missed); ask Jo Watts-Test")
    with pytest.raises(RefusedError, match="may not acknowledge escalation"):
        desk.ack(police, by="pt-office")
    assert len(desk.list()) == 3
    closed = desk.stand_down("V1", by="pt-head", note="Alex rang in from the car")
    assert [e.step_index for e in closed] == [0, 1, 2] and not desk.list()


def test_the_authoriser_acts_on_any_step(desk: Escalations) -> None:
    alarm = desk.list()[0]
    assert desk.ack(alarm.id, by="pt-head", note="I'm phoning").acknowledged_by == "pt-head"
    assert len(desk.stand_down("V1", by="pt-head")) == 1


@pytest.mark.parametrize("note", ["rang, said bluebell", "BLUEBELL."])
def test_escalation_notes_refuse_the_code_word_and_write_nothing(desk: Escalations, store: Store, note: str) -> None:
    alarm = desk.list()[0]
    with pytest.raises(InputError, match="note: it contains the visit's code word"):
        desk.ack(alarm.id, by="pt-office", note=note)
    with pytest.raises(InputError, match="note: it contains the visit's code word"):
        desk.stand_down("V1", by="pt-head", note=note)
    assert desk.get(alarm.id).acknowledged_by is None and desk.get(alarm.id).open
    assert CODE_WORD not in _audit_text(store).lower()
    assert desk.ack(alarm.id, by="pt-office", note="bluebells in the garden? no: phoned, no answer").note


# --- the same through `hvc escalation` ---------------------------------------------------------


@pytest.fixture
def hvc(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """``hvc --config hvc.toml ARGS`` for Potton with V1 out, the first command at 10:22, each next one after it."""
    config = write_config(tmp_path, sqlite_url, PEOPLE)
    store = Store.open(sqlite_url, upgrade=True)
    add_visits(store, [visit_document("V1")])
    store.close()
    clock = CommandClock(monkeypatch, START + timedelta(minutes=22))

    def run(*args: str) -> int:
        with clock.command():
            return main(["--config", str(config), *args])

    return run


def test_the_cli_refuses_who_the_policy_does_not_name(hvc: Callable[..., int], sqlite_url: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert hvc("watch", "--now", (START + timedelta(minutes=20)).isoformat()) == 0
    capsys.readouterr()
    assert hvc("escalation", "ack", "1", "--as", "pt-teacher", "--note", "probably fine") == 1
    err = capsys.readouterr().err
    assert "Tess Teacher (pt-teacher) may not acknowledge escalation 1" in err and "Ola Office" in err
    assert hvc("escalation", "ack", "1", "--as", "pt-office", "--note", "rang, said Bluebell") == 2
    assert "note: it contains the visit's code word" in capsys.readouterr().err
    assert hvc("escalation", "ack", "1", "--as", "pt-office", "--note", "phoned, no answer") == 0
    assert hvc("escalation", "next", "1", "--as", "pt-head") == 0
    assert hvc("escalation", "next", "2", "--as", "pt-head") == 0
    capsys.readouterr()
    assert hvc("escalation", "stand-down", "V1", "--as", "pt-admin", "--note", "she'll be fine") == 1
    assert "may not stand down visit V1: potton's policy lets only headteacher act on step 3" in capsys.readouterr().err
    assert hvc("escalation", "stand-down", "V1", "--as", "pt-head", "--note", "said bluebell") == 2
    assert hvc("escalation", "stand-down", "V1", "--as", "pt-head", "--note", "Alex rang in") == 0
    assert "3 escalation(s) closed" in capsys.readouterr().out
    store = Store.open(sqlite_url)
    try:
        assert CODE_WORD not in _audit_text(store).lower()
        with store.connect() as conn:
            assert conn.execute(select(escalations.c.closed_at).where(escalations.c.closed_at.is_(None))).all() == []
    finally:
        store.close()
