"""Compiling a shipped Typst template, with its data passed as JSON, into a tagged, reproducible PDF.

One compiler serves the whole process, so typst loads its fonts once, not for each document. The data
comes in a file made in memory rather than in ``sys.inputs`` (which typst builds its standard library
around, anew for each document), so from one document to the next typst finds what they share (the
templates' code, the header) in its cache instead of doing it again.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from hv_connector.errors import PrintError

if TYPE_CHECKING:
    import typst

CREATED = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""The creation date written into every PDF's metadata: fixed, so the same input gives the same bytes.
The date a document was made, where it matters, is printed in its text."""

STANDARD: Final[Literal["ua-1"]] = "ua-1"
"""PDF/UA-1: tagged for screen readers, with a title, headings and table headers marked."""

MAX_UNPRINTABLE = 50
"""Rounds of replacing characters no embedded font has before giving up (one round per distinct text)."""

DATA_FILE = "data.json"
"""The name a template reads its data from: ``json("data.json")``. The file is made in memory for each
document, never written to disk, and is the only way data reaches a template."""

_MAIN = "main.typ"
"""The name typst gives the template being printed (the compiler's main file)."""

_UNPRINTABLE = re.compile(r'the text `"(.+?)"` could not be displayed')
_JOINERS = "[\u200c\u200d\ufe0e\ufe0f]*"
"""Invisible joiners and variation selectors after an unprintable character go with it (an emoji sequence)."""


def _folder() -> Path:
    """``templates/``: each template, and ``_lib.typ``, which they share."""
    return Path(str(resources.files(__package__).joinpath("templates")))


@functools.cache
def _sources() -> dict[str, bytes]:
    """Every file in ``templates/``, by name: read once, then given to the compiler from memory."""
    return {p.name: p.read_bytes() for p in _folder().iterdir() if p.name.endswith(".typ")}


def template_names() -> list[str]:
    """The templates shipped with hv-connector, by the name :func:`render` takes."""
    return sorted(name.removesuffix(".typ") for name in _sources() if not name.startswith("_"))


@functools.cache
def _compiler() -> tuple[typst.Compiler, threading.Lock]:
    """The process's one compiler, made on first use, and the lock that lets one thread at a time use it.

    Only the fonts inside the ``typst`` wheel are loaded (the same on every machine), never the system's.
    """
    import typst

    return typst.Compiler(root=_folder(), ignore_system_fonts=True), threading.Lock()


def render(template_name: str, data: Mapping[str, Any]) -> bytes:
    """Print ``data`` with the shipped template ``templates/<template_name>.typ`` and return the PDF's bytes.

    The data reaches the template as a JSON file made in memory (:data:`DATA_FILE`), never pasted into
    its source, so text from the MIS is printed as text. Only the fonts inside the ``typst`` wheel are
    used, so the same ``data`` gives the same bytes, whatever was printed before. A character none of
    them has (Chinese script, emoji) is printed as its code point, ``[U+674E]``, rather than dropped or
    failing the PDF/UA check.

    :raises PrintError: no such template, or it cannot print this data.
    """
    import typst  # only the commands that print pay for loading it

    if template_name not in template_names():
        raise PrintError(f"no template {template_name!r}: choose one of {', '.join(template_names())}")
    compiler, lock = _compiler()
    value: Any = data
    for _ in range(MAX_UNPRINTABLE):
        files = {**_sources(), _MAIN: _sources()[f"{template_name}.typ"],
                 DATA_FILE: json.dumps(value, default=str, ensure_ascii=False).encode()}
        try:
            with lock:
                # A dict of files is typst-py's documented multi-file input, which its type stub leaves out.
                pdf = compiler.compile(input=files, format="pdf",  # type: ignore[type-var]
                                       pdf_standards=[STANDARD], timestamp=CREATED)
        except typst.TypstError as exc:
            unprintable = _UNPRINTABLE.search(exc.message)
            if unprintable is None:
                raise PrintError(f"template {template_name!r} cannot print this document: {exc.message} — "
                                 "report this as a bug in hv-connector") from exc
            replaced = _replaced(value, re.compile(re.escape(unprintable.group(1)) + _JOINERS))
            if replaced == value:
                raise PrintError(f"template {template_name!r} cannot print {unprintable.group(1)!r} — "
                                 "report this as a bug in hv-connector") from exc
            value = replaced
            continue
        assert isinstance(pdf, bytes)
        return pdf
    raise PrintError(f"template {template_name!r}: more than {MAX_UNPRINTABLE} kinds of character no font has — "
                     "shorten the text that holds them")


def page_count(pdf: bytes) -> int:
    """How many pages a PDF from :func:`render` has (its page objects are written uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def _replaced(value: Any, text: re.Pattern[str]) -> Any:
    """``value`` with every match of ``text`` inside its strings written as code points."""
    if isinstance(value, str):
        return text.sub(lambda m: "[" + " ".join(f"U+{ord(c):04X}" for c in m.group()) + "]", value)
    if isinstance(value, Mapping):
        return {k: _replaced(v, text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replaced(v, text) for v in value]
    return value
