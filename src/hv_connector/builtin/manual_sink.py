"""The built-in ``manual`` report sink, the default: each record written out for the DSL team to enter in CPOMS.

CPOMS has no public API (../shared/apis/cpoms.md §0), so a school without a partner
agreement enters records by hand. For each record (a concern first) this sink writes
a plain-text paste block (``.txt``) and a PDF into the school's folder, which only
the service's user can read (folder 0700, files 0600); nothing is e-mailed. The
outbox record then waits, ``awaiting-entry``, until the DSL team confirms the CPOMS
record number (``hvc outbox confirm ID --ref N --as STAFF``, or the dashboard's
outbox); a concern not confirmed in time raises an alarm on the watch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from hv_connector.config.settings import SchoolSettings, Settings
from hv_connector.errors import PrintError, SinkUnavailable, StoreError
from hv_connector.files import private_dir
from hv_connector.outbox.entry import paste_block
from hv_connector.outbox.printed import record_document
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery, sink_options
from hv_connector.store.engine import APP_NAME


class ManualSinkSettings(BaseModel):
    """``[schools.ID.sink]`` with ``name = "manual"`` (or no table at all)."""

    model_config = ConfigDict(extra="forbid")

    folder: Path | None = None
    """Where the school's records are written; by default ``records/ID`` in hv-connector's data directory
    (``~/.local/share/hv-connector`` on Linux). Made readable by the service's user only."""


def default_folder(school_id: str) -> Path:
    """``records/<school>`` in the platform's user data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "records" / school_id


def file_stem(report: VisitReport) -> str:
    """The record's file name without extension: its reference and revision, safe in any file system."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", f"{report.record_id}-r{report.revision}").strip("-")


class ManualSink:
    """One school's folder of records to enter by hand, as a :class:`~hv_connector.outbox.sinks.ReportSink`.

    :param folder: where the records go (made 0700 on opening).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def __aenter__(self) -> ManualSink:
        try:
            private_dir(self.folder)  # the DSL team's folder: whatever the umask or an earlier chmod said
        except (OSError, StoreError) as exc:
            why = exc.strerror or exc if isinstance(exc, OSError) else exc
            raise SinkUnavailable(f"cannot use the records folder {self.folder}: {why}; set "
                                  "`folder` under [schools.ID.sink] to a folder the service's user owns") from exc
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def paths(self, report: VisitReport) -> tuple[Path, Path]:
        """Where ``report``'s paste block and PDF are written."""
        stem = self.folder / file_stem(report)
        return stem.with_suffix(".txt"), stem.with_suffix(".pdf")

    async def find(self, report: VisitReport) -> Delivery | None:
        text, pdf = self.paths(report)
        return Delivery(str(text), already_there=True, awaiting_entry=True) if text.exists() and pdf.exists() else None

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        from hv_connector.printing import render, write_private  # the typst wheel loads only when a record is printed

        text, pdf = self.paths(report)
        try:
            # The PDF first: find() takes the paste block's presence to mean both are there.
            write_private(pdf, render("document", record_document([report]).model_dump()))
            write_private(text, paste_block(report).encode())
        except PrintError as exc:
            raise SinkUnavailable(f"cannot write record {report.record_id} for entry: {exc}") from exc
        return Delivery(str(text), awaiting_entry=True)


def manual_sink(settings: Settings, school: SchoolSettings) -> ManualSink:
    """Build a school's manual sink from its ``[schools.ID.sink]`` settings (``folder``)."""
    options = sink_options(ManualSinkSettings, school)
    return ManualSink(options.folder or default_folder(school.id))
