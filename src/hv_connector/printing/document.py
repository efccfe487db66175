"""What a printed document holds: a title and sections of paragraphs, key/value rows, lists and tables.

These models are the data ``document.typ`` (and ``briefing.typ``, which adds nothing to the shape)
reads. Build one, then print it with ``render("document", doc.model_dump())``. Every string is
printed as text, never as Typst markup, so names from the MIS need no escaping.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Paragraph(_Part):
    """A paragraph of text."""

    kind: Literal["paragraph"] = "paragraph"
    text: str
    strong: bool = False
    """Printed bold: for a warning the reader must not miss."""


class Rows(_Part):
    """Key/value rows: a label on the left, its value on the right."""

    kind: Literal["rows"] = "rows"
    rows: list[tuple[str, str]]


class Items(_Part):
    """A bulleted list."""

    kind: Literal["list"] = "list"
    items: list[str]


class Table(_Part):
    """A table with a header row; each row has one cell per column."""

    kind: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[str]]


Block = Paragraph | Rows | Items | Table


class Section(_Part):
    """A headed part of a document."""

    heading: str
    blocks: list[Block] = []


class Document(_Part):
    """A whole document: its title, a line under it, a notice printed on every page, and its sections."""

    title: str
    subtitle: str | None = None
    notice: str | None = None
    """Printed at the top of every page (e.g. that the document holds personal data)."""
    sections: list[Section] = []
