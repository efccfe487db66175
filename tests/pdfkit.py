"""Reading PDFs as their readers do: the text ``pdftotext`` (poppler-utils) extracts from them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _poppler(name: str) -> str:
    """The path of poppler-utils' ``name``; the test is skipped when poppler-utils is not installed."""
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} is missing: run `make system-packages` (installs poppler-utils)")
    return tool


def pdf_text(pdf: bytes) -> str:
    """The text of ``pdf``, laid out as on the page; the test is skipped when poppler-utils is not installed."""
    return subprocess.run([_poppler("pdftotext"), "-layout", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()


def pdf_structure(pdf: bytes, tmp_path: Path) -> list[str]:
    """The tags a screen reader follows in ``pdf`` (``H1``, ``L``, ``LI``, ``Lbl``, ``Table``, …), in reading order."""
    path = tmp_path / "structure.pdf"
    path.write_bytes(pdf)
    tree = subprocess.run([_poppler("pdfinfo"), "-struct", str(path)], capture_output=True, check=True).stdout.decode()
    return [line.split()[0] for line in tree.splitlines() if line.strip() and not line.strip().startswith("/")]


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of ``pdf`` (pdftotext ends each with a form feed)."""
    return pdf_text(pdf).split("\f")[:-1]
