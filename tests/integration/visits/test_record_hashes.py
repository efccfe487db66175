"""The audit log proves the records: a tamper trial edits, deletes and forges rows of every kind and
``hvc audit verify`` names each one; ``--expect`` pins the chain to a tip kept elsewhere."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select, update
from visitkit import REVIEW_WARNING, potton_request  # type: ignore[import-not-found]

from hv_connector.store import Store, audit, records
from hv_connector.store.schema import acknowledgements, audit_tip, outbox, visit_events, visits
from hv_connector.visits.service import VisitService

Hvc = Callable[..., tuple[int, str, str]]


def _reported_visit(hvc: Hvc, tmp_path: Path) -> str:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(potton_request()), encoding="utf-8")
    code, out, _ = hvc("visit", "request", "--file", str(path), "--as", "pt-v1", "--json")
    visit_id: str = json.loads(out)["visit"]["id"]
    rule = json.loads(out)["findings"][0]["rule_id"]
    assert hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", rule)[0] == 0
    for args in (("sign-out",), ("check-in", "--kind", "office-call", "--note", "All well."), ("return",)):
        assert hvc("visit", args[0], visit_id, *args[1:], "--as", "pt-v1")[0] == 0
    assert hvc("visit", "report", visit_id, "--as", "pt-v1", "--child-seen", "--spoken-to",
               "--discussion", "Attendance plan agreed.", "--action", "Call mum on Friday.")[0] == 0
    return visit_id


def _store() -> Store:
    url = os.environ["HVC_CONFIG"].removesuffix("hvc.toml") + "hvc.db"
    return Store.open(f"sqlite:///{url}")


def _first(conn: Any, table: Table, visit_id: str) -> Any:
    return conn.execute(select(table).where(table.c.visit_id == visit_id).order_by(table.c.id)).mappings().first()


def _first_visit(conn: Any, visit_id: str) -> Any:
    return conn.execute(select(visits).where(visits.c.id == visit_id)).mappings().one()


TAMPERS: dict[str, tuple[Callable[[Any, str], None], str]] = {
    "visit address edited": (lambda c, v: c.execute(update(visits).where(visits.c.id == v).values(
        address_text="1 Somewhere Else")), "visit "),
    "visit state forged": (lambda c, v: c.execute(update(visits).where(visits.c.id == v).values(state="closed")),
                           "visit "),
    "visit document edited (its digest left as it was)": (lambda c, v: c.execute(update(visits).where(
        visits.c.id == v).values(data={**_first_visit(c, v)["data"], "purpose": "Something else"})), "visit "),
    "event deleted": (lambda c, v: c.execute(delete(visit_events).where(
        visit_events.c.id == _first(c, visit_events, v)["id"])), "event "),
    "event note edited": (lambda c, v: c.execute(update(visit_events).where(visit_events.c.visit_id == v).values(
        note="nothing to see")), "event "),
    "event forged": (lambda c, v: c.execute(insert(visit_events).values(
        {**{k: x for k, x in _first(c, visit_events, v).items() if k != "id"}, "event": "cancel"})), "event "),
    "outbox payload edited": (lambda c, v: c.execute(update(outbox).where(outbox.c.visit_id == v).values(
        payload={"description": "A different report."})), "outbox "),
    "outbox record deleted": (lambda c, v: c.execute(delete(outbox).where(outbox.c.visit_id == v)), "outbox "),
    "events reordered": (lambda c, v: c.execute(update(visit_events).where(visit_events.c.visit_id == v).values(
        at=_first(c, visit_events, v)["at"])), "event "),
    "acknowledgement re-attributed": (lambda c, v: c.execute(update(acknowledgements).where(
        acknowledgements.c.visit_id == v).values(by="pt-v1")), "acknowledgement "),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_every_tampered_record_is_named(hvc: Hvc, tmp_path: Path, tamper: str) -> None:
    visit_id = _reported_visit(hvc, tmp_path)
    code, out, _ = hvc("audit", "verify")
    assert code == 0 and "the records it describes match it" in out
    change, named = TAMPERS[tamper]
    with _store() as store, store.begin() as conn:
        change(conn, visit_id)
    code, out, _ = hvc("audit", "verify", "--json")
    found = json.loads(out)
    assert code == 1 and found["first_broken"] is None
    assert [p["record"] for p in found["records"] if p["visit_id"] == visit_id and p["record"].startswith(named)]


def _forge_a_copy(visit_id: str, forged_id: str) -> None:
    """Insert a copy of ``visit_id`` as ``forged_id`` behind the audit log's back."""
    with _store() as store, store.begin() as conn:
        row = conn.execute(select(visits).where(visits.c.id == visit_id)).mappings().one()
        conn.execute(insert(visits).values({**row, "id": forged_id}))


def test_a_forged_visit_is_named_until_sealed(hvc: Hvc, tmp_path: Path) -> None:
    _forge_a_copy(_reported_visit(hvc, tmp_path), "pt-forged")
    code, out, _ = hvc("audit", "verify")
    assert code == 1 and "pt-forged" in out and "hvc audit seal" in out
    assert hvc("audit", "seal", "--as", "pt-dsl")[0] == 0
    assert hvc("audit", "verify")[0] == 0


def test_a_forged_visit_cannot_forge_a_line_of_the_verdict(hvc: Hvc, tmp_path: Path) -> None:
    _forge_a_copy(_reported_visit(hvc, tmp_path), "pt-x\nThe audit log is intact")
    code, out, _ = hvc("audit", "verify")
    assert code == 1 and "pt-x\\x0aThe audit log is intact" in out
    assert not any(line.startswith("The audit log is intact") for line in out.splitlines())


def test_verify_checks_the_chain_against_a_tip_kept_elsewhere(hvc: Hvc, tmp_path: Path) -> None:
    _reported_visit(hvc, tmp_path)
    code, out, _ = hvc("audit", "anchor")
    kept = out.split("hash ")[-1].strip()
    assert code == 0 and len(kept) == 64
    assert hvc("audit", "verify", "--expect", kept)[0] == 0
    code, out, _ = hvc("audit", "verify", "--expect", "f" * 64)
    assert code == 1 and "expected tip hash is not in this chain" in out


def test_a_missing_tip_row_is_a_clear_message(hvc: Hvc, tmp_path: Path) -> None:
    _reported_visit(hvc, tmp_path)
    with _store() as store, store.begin() as conn:
        conn.execute(delete(audit_tip))
    code, out, err = hvc("audit", "verify")
    assert code == 1 and "tip record (table audit_tip) is missing" in out and "Traceback" not in out + err
    code, _, err = hvc("audit", "anchor")
    assert code == 2 and "restore it from a backup" in err


class _Mailbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 OK"


def test_anchor_mails_the_tip_to_the_configured_address(hvc: Hvc, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.controller import Controller

    _reported_visit(hvc, tmp_path)
    code, _, err = hvc("audit", "anchor", "--mail")
    assert code == 2 and "anchor_to" in err
    with socket.socket() as probe:  # aiosmtpd's controller needs its port up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for name, value in (("AUDIT__ANCHOR_TO", '["dpo@potton.example"]'), ("WATCH__NOTIFIERS__EMAIL__HOST", "127.0.0.1"),
                            ("WATCH__NOTIFIERS__EMAIL__PORT", str(port)), ("WATCH__NOTIFIERS__EMAIL__TLS", "none"),
                            ("WATCH__NOTIFIERS__EMAIL__SENDER", "hvc@potton.example")):
            monkeypatch.setenv(f"HVC_{name}", value)
        code, out, err = hvc("audit", "anchor", "--mail")
    finally:
        controller.stop()
    assert code == 0, err
    tip = out.splitlines()[0].split("hash ")[-1]
    assert "Sent to dpo@potton.example." in out
    [mail] = mailbox.received
    body = message_from_bytes(mail.content, policy=policy.default).get_content()  # type: ignore[attr-defined]
    assert mail.rcpt_tos == ["dpo@potton.example"] and f"--expect {tip}" in body


def _record_problems(store: Store) -> list[records.RecordProblem]:
    recorded: dict[str, dict[str, str]] = {}
    with store.connect() as conn:
        assert audit.inspect(conn, records=recorded) is None
        return records.compare(recorded, records.snapshot(conn, recorded, recorded=recorded))


def test_record_hashes_verify_on_sqlite_and_postgresql(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])
    assert _record_problems(service.store) == []
    with service.store.begin() as conn:
        conn.execute(update(visits).where(visits.c.id == visit_id).values(state="reported"))
    assert [str(p) for p in _record_problems(service.store)] == [
        f"visit {visit_id} (visit {visit_id}): edited since its last audit entry"]


def test_visit_records_hashed_whole_before_revision_0013_still_verify(service: VisitService,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(conn: Any, visit_ids: Any) -> dict[str, dict[str, str]]:  # as entries were written before 0013
        ids = list(visit_ids)
        return records.snapshot(conn, ids, recorded={v: {f"visit {v}": "a hash of the whole document"} for v in ids})

    with monkeypatch.context() as patched:
        patched.setattr(records, "stamp", whole)
        visit_id = service.request(potton_request(), by="pt-v1").record.id
    with service.store.connect() as conn:
        [entry] = audit.history(conn, visit_id)
    assert entry.records is not None and not entry.records[f"visit {visit_id}"].startswith(records.DIGESTED)
    assert _record_problems(service.store) == []
    with service.store.begin() as conn:
        conn.execute(update(visits).where(visits.c.id == visit_id).values(
            data={**_first_visit(conn, visit_id)["data"], "purpose": "Something else"}))
    assert [str(p) for p in _record_problems(service.store)] == [
        f"visit {visit_id} (visit {visit_id}): edited since its last audit entry"]
    service.authorise(visit_id, by="pt-head", ack=[REVIEW_WARNING])  # the next entry hashes it with its digest
    with service.store.connect() as conn:
        assert audit.history(conn, visit_id)[-1].records[f"visit {visit_id}"].startswith(records.DIGESTED)
    assert _record_problems(service.store) == []


def test_a_visit_written_before_its_digest_was_is_hashed_from_its_document(service: VisitService) -> None:
    visit_id = service.request(potton_request(), by="pt-v1").record.id
    with service.store.begin() as conn:  # as revision 0013 leaves a visit written before it
        conn.execute(update(visits).where(visits.c.id == visit_id).values(data_hash=None))
        audit.append(conn, actor="pt-head", action="visit.note", school_id="potton", visit_id=visit_id)
    assert _record_problems(service.store) == []
