"""The one PDF library: a document's text is printed as text, on tagged PDF, the same bytes every time."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hv_connector.errors import PrintError
from hv_connector.printing import Document, Items, Paragraph, Rows, Section, Table, render, write_private
from tests.pdfkit import pdf_pages, pdf_structure, pdf_text

NOTICE = "Holds personal data: destroy after use"


def _document(name: str = "Ada Okafor", sections: int = 1) -> Document:
    return Document(title=f"Record for {name}", subtitle="Printed from fictional data", notice=NOTICE, sections=[
        Section(heading=f"Part {n}", blocks=[
            Rows(rows=[("Name", name), ("Year", "Year 7")]),
            Paragraph(text="Seen at home; no concerns.", strong=True),
            Items(items=["Called the office at 15:10", "Back at school 15:40"]),
            Table(columns=["When", "Who", "What"], rows=[["14:05", "R. Patel", "Arrived"], ["15:10", "R. Patel", "Left"]]),
        ]) for n in range(1, sections + 1)])


@pytest.mark.parametrize("template", ["document", "briefing"])
def test_every_part_of_a_document_is_printed(template: str) -> None:
    text = pdf_text(render(template, _document().model_dump()))
    for expected in ("Record for Ada Okafor", "Printed from fictional data", "Part 1", "Year 7",
                     "Seen at home; no concerns.", "• Called the office at 15:10", "When", "R. Patel", "Arrived"):
        assert expected in text


def test_every_page_carries_the_notice_and_its_number() -> None:
    pages = pdf_pages(render("document", _document(sections=30).model_dump()))
    assert len(pages) > 1
    for n, page in enumerate(pages, start=1):
        assert NOTICE in page
        assert f"page {n} of {len(pages)}" in page


def test_the_same_document_gives_the_same_bytes() -> None:
    data = _document().model_dump()
    assert render("document", data) == render("document", data)
    assert render("document", data) != render("document", _document("Ben Okafor").model_dump())


def test_a_document_gives_the_same_bytes_whatever_the_process_printed_before() -> None:
    data = _document("Cara Mensah", sections=3).model_dump()
    for name in ("Ben Okafor", "李 Zoë 👨‍👩‍👧", "Ada Okafor"):
        render("briefing", _document(name, sections=2).model_dump())
    here = render("document", data)
    fresh = subprocess.run([sys.executable, "-c", "import json, sys; from hv_connector.printing import render; "
                            "sys.stdout.buffer.write(render('document', json.loads(sys.argv[1])))", json.dumps(data)],
                           capture_output=True, check=True).stdout
    assert here == fresh


def test_threads_can_print_at_the_same_time() -> None:
    documents = [_document(f"Pupil {n}").model_dump() for n in range(6)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda data: render("document", data), documents))
    assert together == [render("document", data) for data in documents]


def test_the_pdf_is_tagged_and_titled() -> None:
    pdf = render("document", _document().model_dump())
    assert b"/StructTreeRoot" in pdf
    assert b"pdfuaid" in pdf  # declares PDF/UA-1
    assert "Record for Ada Okafor".encode("utf-16-be") in pdf or b"Record for Ada Okafor" in pdf


def test_a_screen_reader_hears_rows_as_labelled_items_and_a_table_with_its_header(tmp_path: Path) -> None:
    tags = pdf_structure(render("document", _document().model_dump()), tmp_path)
    rows = tags.index("L")
    assert tags[rows + 1:rows + 7] == ["LI", "Lbl", "Span", "LBody", "LI", "Lbl"]  # "Name" then "Year"
    assert "TH" in tags[tags.index("Table"):]


def test_markup_in_the_data_is_printed_as_text() -> None:
    hostile = '#set page(width: 1cm) *bold* $x$ <label> @ref [link] "quoted" \\ back'
    assert hostile in pdf_text(render("document", _document(hostile).model_dump())).replace("\n", " ")


def test_characters_no_font_has_are_printed_as_code_points() -> None:
    text = pdf_text(render("document", _document("Zoë 李 Παπαδόπουλος 👨‍👩‍👧 ❤️").model_dump()))
    assert "Zoë [U+674E] Παπαδόπουλος [U+1F468 U+200D][U+1F469 U+200D][U+1F467]" in text


def test_an_unknown_template_names_the_ones_there_are() -> None:
    with pytest.raises(PrintError, match="choose one of briefing, document"):
        render("governors", {})


def test_a_private_file_is_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "records" / "deep" / "record.pdf"
    write_private(path, b"%PDF-first")
    write_private(path, b"%PDF-second")
    assert path.read_bytes() == b"%PDF-second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["record.pdf"]


def test_an_unwritable_folder_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(PrintError, match="choose another"):
        write_private(tmp_path / "file" / "record.pdf", b"%PDF")
