"""A second MIS adapter needs no change to the core: a CSV export adapter, registered as a plugin in the test,
checked by ``hvc config check``, its secret redacted by ``hvc config show``, syncing a school end to end through
the real pipeline and store with its own cursor (a file revision, not a time). No Wonde token anywhere."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from hv_connector.cli.common import cli
from hv_connector.runtime import Runtime
from hv_connector.store import Store
from hv_connector.store.schema import pupil_contacts, pupils, quarantine, sync_cursors
from tests.configkit import staff_entry, write_config
from tests.integration.csv_export_adapter import CsvExportPlugin

EXPORT_TOKEN = "test-export-token-4b1d"
PUPIL_FIELDS = ["mis_id", "upn", "forename", "surname", "date_of_birth", "year_group", "address"]
CONTACT_FIELDS = ["pupil_mis_id", "contact_mis_id", "name", "relationship", "parental_responsibility", "phone"]


def write_csv(path: Path, fields: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(fields)
        writer.writerows(rows)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))  # a new revision, even within a tick


def export(folder: Path, *, pupil_rows: list[list[str]], leavers: list[str] = ()) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "export-token").write_text(EXPORT_TOKEN, encoding="utf-8")
    write_csv(folder / "pupils.csv", PUPIL_FIELDS, pupil_rows)
    write_csv(folder / "contacts.csv", CONTACT_FIELDS, [
        ["9001", "c-1", "Pat Example", "Mother", "yes", "07700 900501"],
        ["9002", "c-2", "Lee\x1b]8;;https://evil.example/\x07Example", "Father", "no", ""],
    ])
    if leavers:
        write_csv(folder / "leavers.csv", ["mis_id"], [[mis_id] for mis_id in leavers])


ROWS = [
    ["9001", "A123456789012", "Ada", "Example", "2015-03-09", "5", "1 Example Road, Potton"],
    ["9002", "", "Ben", "Example\x1b[2J\x1b[31m", "2016-01-20", "4", "2 Example Road, Potton"],
    ["9003", "", "Cy", "X" * 5000, "", "3", ""],
]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "export"
    export(folder, pupil_rows=ROWS)
    config = write_config(tmp_path / "hvc.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'hvc.db'}"

[schools.potton]
name = "Potton Primary School"
policy = "potton"
mis = "csv-export"

[schools.potton.mis_options]
folder = "{folder}"
export_token = "{EXPORT_TOKEN}"
""", staff_entry("potton", "pt-dsl", "Dee Lead", "dsl", "headteacher", "slt", "office"))
    config.chmod(0o600)
    return config, folder


def run(config: Path, plugin: CsvExportPlugin, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``hvc --config CONFIG ARGS`` in this process with ``plugin`` registered, as an installed one would be."""
    rt = Runtime(config_path=config)
    rt.pm.register(plugin)
    try:
        code = cli.main(args=["--config", str(config), *args], prog_name="hvc", obj={"runtime": rt},
                        standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    finally:
        rt.close()
    return code or 0, capsys.readouterr().out


def test_config_check_asks_the_adapter_and_show_redacts_its_secret(setup: tuple[Path, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config, folder = setup
    plugin = CsvExportPlugin()
    code, out = run(config, plugin, "config", "check", "--json", capsys=capsys)
    report = json.loads(out)
    assert [p for p in report["problems"] if "mis" in p["setting"] or "wonde" in p["setting"]] == [], report
    assert not any("WONDE" in p["message"] for p in report["problems"])

    (folder / "export-token").write_text("a-token-from-another-job", encoding="utf-8")
    code, out = run(config, plugin, "config", "check", "--json", capsys=capsys)
    assert code == 2
    [problem] = [p for p in json.loads(out)["problems"] if p["setting"].startswith("schools.potton.mis")]
    assert problem["setting"] == "schools.potton.mis_options.export_token"
    assert "does not match the export job's" in problem["message"] and EXPORT_TOKEN not in out

    code, out = run(config, plugin, "config", "show", capsys=capsys)
    assert code == 0 and "schools.potton.mis_options.export_token = **********" in out and EXPORT_TOKEN not in out
    assert f"schools.potton.mis_options.folder = {folder}" in out


def test_a_csv_export_syncs_end_to_end_with_its_own_cursor(setup: tuple[Path, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config, folder = setup
    plugin = CsvExportPlugin()
    code, out = run(config, plugin, "sync", "--json", capsys=capsys)
    [summary] = json.loads(out)
    assert code == 0 and summary["status"] == "ok", summary
    assert (summary["added"], summary["quarantined"]) == (2, 1)
    assert summary["quarantine"][0]["record_id"] == "9003"
    assert summary["quarantine"][0]["reason"].startswith("surname is 5,000 characters long, over the limit of 100")

    store = Store.open(f"sqlite:///{config.parent / 'hvc.db'}")
    with store.connect() as conn:
        names = dict(conn.execute(select(pupils.c.mis_id, pupils.c.display_name)).all())
        contacts = dict(conn.execute(select(pupil_contacts.c.contact_mis_id, pupil_contacts.c.name)).all())
        cursors = {r.resource: (r.adapter, r.position) for r in conn.execute(select(sync_cursors))}
        held = conn.execute(select(quarantine.c.record_id).where(quarantine.c.resolved_at.is_(None))).scalars().all()
    assert names == {"9001": "Ada Example", "9002": "Ben Example\\x1b[2J\\x1b[31m"}
    assert contacts["c-2"] == "Lee\\x1b]8;;https://evil.example/\\x07Example"
    stat = (folder / "pupils.csv").stat()
    assert cursors == {"pupils": ("csv-export", f"{stat.st_size}-{stat.st_mtime_ns}"), "departures": ("csv-export", None)}
    assert held == ["9003"]

    code, out = run(config, plugin, "sync", "--json", capsys=capsys)  # nothing exported since
    [summary] = json.loads(out)
    assert (summary["added"], summary["updated"]) == (0, 0)
    assert plugin.factory.built[-1].asked_since["pupils"] == cursors["pupils"][1]

    export(folder, pupil_rows=[ROWS[0], ["9003", "", "Cy", "Example", "", "3", ""]], leavers=["9002"])
    code, out = run(config, plugin, "sync", "--json", capsys=capsys)
    [summary] = json.loads(out)
    assert (summary["added"], summary["archived"], summary["quarantined"]) == (1, 1, 0)
    with store.connect() as conn:
        archived = conn.execute(select(pupils.c.mis_id).where(pupils.c.archived_at.is_not(None))).scalars().all()
        held = conn.execute(select(quarantine.c.record_id).where(quarantine.c.resolved_at.is_(None))).scalars().all()
    store.close()
    assert archived == ["9002"] and held == []
