"""Reading PDFs as their readers do: the text ``pdftotext`` (poppler-utils) extracts from them."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def pdf_text(pdf: bytes) -> str:
    """The text of ``pdf``, laid out as on the page; the test is skipped when poppler-utils is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext is missing: run `make system-packages` (installs poppler-utils)")
    return subprocess.run([tool, "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of ``pdf`` (pdftotext ends each with a form feed)."""
    return pdf_text(pdf).split("\f")[:-1]
