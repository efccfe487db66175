"""Printing a visit: its briefing pack before it, its record after it — written privately and audited.

``hvc visit pack`` / ``hvc visit export`` and the dashboard's visit screen call :class:`Printouts`.
Each printout is rendered by :mod:`hv_connector.printing`, written 0600 (into a 0700 folder when
it makes one), and an audit entry says who printed what, where; the PDF itself is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hv_connector.clock import school_today
from hv_connector.errors import InputError, RefusedError
from hv_connector.models import StaffMember
from hv_connector.outbox.printed import record_document
from hv_connector.outbox.queue import visit_records
from hv_connector.printing import Document, page_count, render, write_private
from hv_connector.read.briefing import PupilBriefing, pupil_briefing
from hv_connector.store import audit
from hv_connector.store.engine import APP_NAME
from hv_connector.visits.input import resolve_member
from hv_connector.visits.lifecycle import State
from hv_connector.visits.pack import pack_document
from hv_connector.visits.records import VisitRecord
from hv_connector.visits.service import VisitService
from hv_connector.visits.timetable import plan_and_chain

NOT_PACKED = (State.REQUESTED, State.DECLINED)
"""States whose visit has no pack yet: nobody may go on it."""
RECORDED = (State.REPORTED, State.CLOSED, State.CANCELLED, State.ABORTED)
"""States whose visit has left a record to export."""


def default_folder() -> Path:
    """Where printouts go unless ``--out`` says otherwise: ``printouts`` in the user data directory (made 0700)."""
    from platformdirs import user_data_dir  # only when printing without --out

    return Path(user_data_dir(APP_NAME)) / "printouts"


@dataclass(frozen=True)
class Printout:
    """A PDF written for a visit."""

    visit_id: str
    path: Path
    pages: int

    @property
    def size(self) -> str:
        """``1 page``, ``2 pages``."""
        return f"{self.pages} page{'' if self.pages == 1 else 's'}"


class Printouts:
    """A visit's printouts, over the visit service (its store, policies, directory and clock)."""

    def __init__(self, service: VisitService) -> None:
        self.service = service

    def pack(self, visit_id: str, *, by: str, out: Path | None = None) -> Printout:
        """Print the briefing pack of an authorised (or later) visit to ``out`` (default: the printouts folder).

        :raises RefusedError: the visit is not authorised yet, or was declined.
        :raises InputError: no such visit, or ``by`` is not in the school's directory.
        """
        service = self.service
        record = service.get(visit_id)
        member = self._member(record, by)
        if record.state in NOT_PACKED:
            raise RefusedError(f"visit {visit_id} is {record.state.value}: a briefing pack is printed once it is "
                               "authorised (`hvc visit authorise`)")
        plan, chain = plan_and_chain(service.policies, record.school, record.visit)
        now = service.clock.now()
        document = pack_document(record, self._briefing(record), plan, chain,
                                 service.directory.staff.get(record.school, {}), printed_at=now,
                                 printed_by=member.name)
        return self._write(record, "briefing", document, out or default_folder() / f"visit-{visit_id}-pack.pdf",
                           by, "visit.pack-printed")

    def export(self, visit_id: str, *, by: str, out: Path | None = None) -> Printout:
        """Print the record a finished visit left (the same as its CPOMS record) to ``out``.

        :raises RefusedError: the visit has not finished, so it has no record yet.
        :raises InputError: no such visit, or ``by`` is not in the school's directory.
        """
        record = self.service.get(visit_id)
        self._member(record, by)
        with self.service.store.connect() as conn:
            reports = visit_records(conn, visit_id)
        if not reports:
            raise RefusedError(f"visit {visit_id} is {record.state.value}: its record is made when it is reported, "
                               "cancelled or aborted (`hvc visit show` prints it so far)")
        return self._write(record, "document", record_document(reports),
                           out or default_folder() / f"visit-{visit_id}-record.pdf", by, "visit.record-exported")

    def _member(self, record: VisitRecord, by: str) -> StaffMember:
        return resolve_member(by, "--as", lambda staff_id: self.service.directory.member(record.school, staff_id),
                              record.school)

    def _briefing(self, record: VisitRecord) -> PupilBriefing | None:
        pupil = record.visit.pupil
        if not (pupil.mis_id and pupil.known_in_mis):
            return None
        with self.service.store.connect() as conn:
            try:
                return pupil_briefing(conn, record.school, pupil.mis_id, school_today(self.service.clock))
            except InputError:
                return None  # the pupil has gone from the synced data: the pack says so

    def _write(self, record: VisitRecord, template: str, document: Document, path: Path, by: str,
               action: str) -> Printout:
        pdf = render(template, document.model_dump())
        path = path.absolute()  # the audit log says where, whatever folder the command ran in
        write_private(path, pdf)
        with self.service.store.begin() as conn:
            audit.append(conn, actor=by, action=action, school_id=record.school, visit_id=record.id,
                         state=record.state.value, detail={"file": str(path)}, at=self.service.clock.now())
        return Printout(record.id, path, page_count(pdf))
