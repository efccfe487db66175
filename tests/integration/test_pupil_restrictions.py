"""The school's own restrictions list and what the briefing says of what the MIS does not tell."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import insert, select

from hv_connector.cli.sync_cmd import briefing_lines
from hv_connector.errors import RefusedError
from hv_connector.models import StaffMember
from hv_connector.read.briefing import PupilBriefing, pupil_briefing
from hv_connector.store import Store, audit
from hv_connector.store.schema import audit as audit_log
from hv_connector.store.schema import pupils
from hv_connector.sync.records import ContactRecord
from hv_connector.visits import restrictions

AT = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
DSL = StaffMember(id="pt-dsl-1", name="Dee Example", roles=("dsl", "slt"))
OFFICE = StaffMember(id="pt-office-1", name="Jo Example", roles=("office",))


def test_the_dsl_team_keeps_restrictions_audited_and_the_briefing_shows_them(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(insert(pupils).values(school_id="potton", mis_id="A1", source_id="A1", display_name="Tam Example"))
    with pytest.raises(RefusedError, match="only the DSL team"):
        restrictions.add(store, "potton", "A1", kind="no-contact", text="No contact.", person=None, by=OFFICE, at=AT)
    added = restrictions.add(store, "potton", "A1", kind="no-contact", person="Alex Example (father)",
                             text="Court order: no contact with the pupil.", by=DSL, at=AT)
    with store.connect() as conn:
        briefing = pupil_briefing(conn, "potton", "A1")
        trail = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)).all()
    assert [(r.kind, r.person, r.added_by) for r in briefing.restrictions] == [
        ("no-contact", "Alex Example (father)", "pt-dsl-1")]
    assert [(actor, action, detail["kind"]) for actor, action, detail in trail] == [
        ("pt-dsl-1", "pupil.restriction.add", "no-contact")]
    lines = list(briefing_lines(briefing))
    assert any("!! no-contact — Alex Example (father): Court order: no contact with the pupil." in line
               for line in lines)
    restrictions.remove(store, "potton", added.id, reason="Order discharged", by=DSL, at=AT)
    with store.connect() as conn:
        assert pupil_briefing(conn, "potton", "A1").restrictions == ()
        actions = [a for (a,) in conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq))]
        assert actions == ["pupil.restriction.add", "pupil.restriction.remove"]
        assert audit.inspect(conn) is None  # the chain holds


def test_the_briefing_tells_unknown_and_withheld_from_no_and_none() -> None:
    briefing = PupilBriefing(
        school_id="potton", mis_id="A1", display_name="Tam Example", upn="X000000000011", native_id="9919",
        date_of_birth=date(2010, 2, 11),
        contacts=(ContactRecord(mis_id="C1", name="Robin Example", relationship="Mother",
                                parental_responsibility=True, lives_with_pupil=False),
                  ContactRecord(mis_id="C2", name="Alex Example", relationship="Father")),
        gaps={"medical": "withheld", "sen": "unreadable"})
    text = "\n".join(briefing_lines(briefing))
    assert "Robin Example — Mother [PR; does not live with pupil]" in text
    assert "Alex Example — Father [PR: not shared by the school; lives with pupil: not shared by the school]" in text
    assert "Medical: withheld: the school has not shared this with hv-connector" in text
    assert "SEN: could not be read from the MIS feed" in text
    assert ("Court-order terms, no-contact orders, child in need, young carer: "
            "not available from the MIS — check with the DSL") in text
    assert "Ids: UPN X000000000011; MIS id 9919" in text
