"""``hvc export``: what the store holds about a pupil, for a subject-access request."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hv_connector.cli.acting import acting_option, require_school
from hv_connector.cli.common import PUPIL_SCHOOL_HELP, cli, log_access, runtime
from hv_connector.files import private_dir
from hv_connector.printing import render, write_private
from hv_connector.read.briefing import find_pupil
from hv_connector.read.subject_access import document, gather, text_lines
from hv_connector.store import access, audit
from hv_connector.text import neutralise


@cli.group()
def export() -> None:
    """Export what the store holds about a pupil, for a subject-access request."""


@export.command("pupil")
@click.argument("pupil_id")
@click.option("--school", "school_id", metavar="ID", help=PUPIL_SCHOOL_HELP)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write to (made owner-only, 0700; the files are 0600).")
@acting_option(required=False, help="Who prepares the export (default: you), for the audit log.")
@click.pass_context
def export_pupil(ctx: click.Context, pupil_id: str, school_id: str | None, out_dir: Path, by: str | None) -> None:
    """Write everything held about PUPIL_ID (MIS data, visits, reports, audit entries, access log) as JSON, text and PDF.

    For a person to review: withhold what would likely cause serious harm before anything is sent.
    """
    rt = runtime(ctx)
    with rt.store.connect() as conn:
        school, mis_id = find_pupil(conn, pupil_id, school_id)
        require_school(ctx, school, f"pupil {pupil_id}")
        held = gather(conn, school, mis_id)
    folder, doc = private_dir(out_dir), document(held)
    stem = folder / f"subject-access-{school}-{mis_id}"
    files = {
        stem.with_suffix(".json"): json.dumps(held, indent=2, ensure_ascii=False, default=str).encode(),
        stem.with_suffix(".txt"): "\n".join(text_lines(doc)).encode(),
        stem.with_suffix(".pdf"): render("document", doc.model_dump()),
    }
    for path, content in files.items():
        write_private(path, content)
    written = list(files)
    actor = access.reader("hvc export pupil", by).actor
    with rt.store.begin() as conn:
        audit.append(conn, actor=actor, action="pupil.export", school_id=school, at=rt.clock.now(),
                     detail={"pupil": mis_id, "files": [path.name for path in written], "visits": len(held["visits"])})
    log_access(ctx, "hvc export pupil", [access.Seen("pupil", mis_id, school, mis_id)], by)
    for path in written:
        click.echo(neutralise(f"Wrote {path}"))
    click.echo("Review it before sending: a subject-access request must be answered within one month.")
