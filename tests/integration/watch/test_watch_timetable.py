"""What the watch reads of a visit out: stored with it, worked out once for a visit from before, never the document."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))

from watchkit import START, add_visits, make_watch, visit_document

from hv_connector.clock import FixedClock
from hv_connector.read.queries import latest_findings
from hv_connector.store import Store
from hv_connector.store.schema import visits
from hv_connector.visits.timetable import Reader
from hv_connector.watch.store import load_timetables


def columns(store: Store, visit_id: str) -> tuple[object, object]:
    with store.connect() as conn:
        row = conn.execute(select(visits.c.timetable, visits.c.timetable_shared).where(visits.c.id == visit_id)).one()
    return row.timetable, row.timetable_shared


def test_a_visit_signed_out_before_the_upgrade_is_worked_out_once_stored_and_escalates_alike(store: Store) -> None:
    add_visits(store, [visit_document("V1")])
    add_visits(store, [visit_document("V2")], timetables=False)  # as revision 0008 found it
    assert columns(store, "V2") == (None, None)
    watch = make_watch(store, FixedClock(START + timedelta(minutes=75)))  # office call missed, and not back at 11:00
    result = watch.tick()
    assert result.failures == []
    fired = {visit: sorted((e.kind, e.step_index) for e in result.fired if e.visit_id == visit) for visit in ("V1", "V2")}
    assert fired["V1"] == fired["V2"] != []
    assert columns(store, "V2") == columns(store, "V1")  # stored: the next tick reads it, not the document
    with store.connect() as conn:
        read = load_timetables(conn, ["V2"], Reader())[0].timetable
    assert read is not None and [s.id for s in read.staff] == ["s1", "s2"] and read.chain[0].who == ("office",)


def test_a_check_in_reaches_the_timetable_and_a_finished_visit_has_none(store: Store) -> None:
    add_visits(store, [visit_document("V1")])
    clock = FixedClock(START + timedelta(minutes=9))
    watch = make_watch(store, clock)
    watch.service.check_in("V1", by="pt-office", kind="office-call")
    assert [kind for _, kind, _ in columns(store, "V1")[0]["check_ins"]] == ["office-call"]
    clock.set(START + timedelta(minutes=50))
    watch.service.return_("V1", by="s1")
    assert columns(store, "V1")[0]["returned_at"] is not None  # returned is still watched (a "home safe" call)
    watch.service.cancel("V1", by="pt-office", reason="family moved away")  # finished: no longer watched
    assert columns(store, "V1") == (None, None)


def test_marking_a_batch_overdue_stores_no_new_findings_and_the_last_judged_ones_still_show(store: Store) -> None:
    add_visits(store, [visit_document(f"V{n}", check_ins=[{"at": (START + timedelta(minutes=9)).isoformat(),
                                                             "kind": "office-call"}]) for n in range(3)])
    clock = FixedClock(START + timedelta(minutes=9, seconds=30))
    watch = make_watch(store, clock)
    watch.service.check_in("V0", by="s1", kind="staff-call", door={"parents_present": False, "waited_minutes": 20})
    judged = [f.rule_id for f in watch.service.events("V0")[-1].findings]
    assert "potton.wait-15-minutes" in judged
    clock.set(START + timedelta(minutes=71))
    result = watch.tick()
    assert sorted(result.moved) == [(f"V{n}", "overdue") for n in range(3)]
    last = watch.service.events("V0")[-1]
    assert (last.event, last.judged, last.findings) == ("mark-overdue", False, [])
    with store.connect() as conn:
        assert [f.rule_id for f in latest_findings(conn, "V0")] == judged
