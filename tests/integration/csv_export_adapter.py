"""A second MIS adapter, for the tests only: pupils and contacts from CSV files a school's MIS exports to a folder.

It shows that an adapter needs no change to the core: it is registered by an
``mis_adapters`` hook like any plugin, reads its own per-school settings
(``[schools.ID.mis_options]``: ``folder``, and ``export_token``, a secret
that must match the ``export-token`` file the export job writes beside the
CSVs), checks them for ``hvc config check``, and keeps its own cursor: the
revision of each file (its size and modification time), not a time the MIS
gave.

Files in the folder: ``pupils.csv`` (mis_id, upn, forename, surname,
date_of_birth, year_group, address), ``contacts.csv`` (pupil_mis_id,
contact_mis_id, name, relationship, parental_responsibility, phone) and,
optionally, ``leavers.csv`` (mis_id).
"""

from __future__ import annotations

import csv
import hmac
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from hv_connector import hookimpl
from hv_connector.config.checks import Problem
from hv_connector.config.settings import SchoolSettings, Settings
from hv_connector.errors import ConfigError, MisError
from hv_connector.sync.records import ContactRecord, Departure, DepartureItem, PupilItem, PupilRecord, Rejected
from hv_connector.sync.store import DEPARTURES, PUPILS

NAME = "csv-export"
FILES = {PUPILS: "pupils.csv", DEPARTURES: "leavers.csv"}


class CsvExportAdapter:
    """One school's export folder as normalised records (the ``MisAdapter`` interface)."""

    def __init__(self, school_id: str, folder: Path) -> None:
        self.school_id = school_id
        self.folder = folder
        self.requests = 0
        """Files read."""
        self.revisions: dict[str, str | None] = {}
        self.asked_since: dict[str, str | None] = {}

    async def __aenter__(self) -> CsvExportAdapter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def revision(self, resource: str) -> str | None:
        path = self.folder / FILES[resource]
        if not path.exists():
            return None
        stat = path.stat()
        return f"{stat.st_size}-{stat.st_mtime_ns}"

    def rows(self, name: str) -> list[dict[str, str]]:
        path = self.folder / name
        if not path.exists():
            return []
        self.requests += 1
        with path.open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))

    async def pupils(self, since: str | None) -> AsyncIterator[list[PupilItem]]:
        self.asked_since[PUPILS] = since
        self.revisions[PUPILS] = self.revision(PUPILS)
        if self.revisions[PUPILS] is None:
            raise MisError(f"the export folder {self.folder} has no pupils.csv: check the MIS's export job")
        if since == self.revisions[PUPILS]:
            return  # the export has not changed since the last run
        contacts: dict[str, list[ContactRecord]] = {}
        for row in self.rows("contacts.csv"):
            contacts.setdefault(row["pupil_mis_id"], []).append(ContactRecord(
                mis_id=row["contact_mis_id"], name=row["name"], relationship=row["relationship"] or None,
                parental_responsibility=row["parental_responsibility"] == "yes",
                phones=(row["phone"],) if row["phone"] else ()))
        yield [self.pupil(row, contacts.get(row["mis_id"], [])) for row in self.rows(FILES[PUPILS])]

    @staticmethod
    def pupil(row: dict[str, str], contacts: list[ContactRecord]) -> PupilItem:
        try:
            return PupilRecord(
                mis_id=row["mis_id"], upn=row["upn"] or None, forename=row["forename"], surname=row["surname"],
                display_name=f"{row['forename']} {row['surname']}".strip(),
                date_of_birth=date.fromisoformat(row["date_of_birth"]) if row["date_of_birth"] else None,
                year_group=row["year_group"] or None, address_text=row["address"] or None, contacts=tuple(contacts))
        except (ValidationError, ValueError) as exc:
            return Rejected(resource=PUPILS, record_id=row.get("mis_id"), reason=str(exc).splitlines()[0])

    async def departures(self, since: str | None) -> AsyncIterator[list[DepartureItem]]:
        self.asked_since[DEPARTURES] = since
        self.revisions[DEPARTURES] = self.revision(DEPARTURES)
        if self.revisions[DEPARTURES] not in (None, since):
            yield [Departure(mis_id=row["mis_id"], kind="pupil") for row in self.rows(FILES[DEPARTURES])]

    def next_cursor(self, resource: str, started_at: datetime) -> str | None:
        return self.revisions[resource]


class CsvExportFactory:
    """What the plugin registers as ``csv-export``: one adapter per school, from its ``mis_options``."""

    def __init__(self) -> None:
        self.built: list[CsvExportAdapter] = []

    def settings_problems(self, settings: Settings, school: SchoolSettings, config_file: str) -> list[Problem]:
        options: dict[str, Any] = school.mis_options
        section = f"[schools.{school.id}.mis_options]"
        folder = options.get("folder")
        if not folder:
            return [Problem(f"schools.{school.id}.mis_options.folder",
                            f"the CSV export folder is not set: add `folder` under {section} in {config_file}")]
        if not Path(folder).is_dir():
            return [Problem(f"schools.{school.id}.mis_options.folder",
                            f"the CSV export folder {folder} does not exist: point `folder` under {section} at the "
                            "folder the MIS exports to")]
        token = options.get("export_token")
        written = Path(folder, "export-token")
        if not isinstance(token, SecretStr) or not written.exists() or not hmac.compare_digest(
                token.get_secret_value(), written.read_text(encoding="utf-8").strip()):
            return [Problem(f"schools.{school.id}.mis_options.export_token",
                            f"`export_token` under {section} in {config_file} does not match the export job's "
                            f"{written}: copy it from the MIS's export settings")]
        return []

    def __call__(self, settings: Settings, school: SchoolSettings) -> CsvExportAdapter:
        for problem in self.settings_problems(settings, school, "hvc.toml"):
            raise ConfigError(problem.message)
        adapter = CsvExportAdapter(school.id, Path(school.mis_options["folder"]))
        self.built.append(adapter)
        return adapter


class CsvExportPlugin:
    """The plugin: registers the factory under ``csv-export``."""

    def __init__(self) -> None:
        self.factory = CsvExportFactory()

    @hookimpl
    def mis_adapters(self) -> dict[str, CsvExportFactory]:
        """Register the CSV export adapter as ``csv-export``."""
        return {NAME: self.factory}
