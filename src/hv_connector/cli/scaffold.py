"""``hvc plugins new``: a school's own policy plugin, copied from the template and ready to test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from hv_connector.errors import InputError

TEMPLATE_SUFFIX = ".tmpl"


def new_plugin(school_id: str, school_name: str, parent: Path) -> Path:
    """Create ``parent/<school_id>`` from the template and return its path.

    The template's ``{{school_id}}``, ``{{module}}`` and ``{{school_name}}`` are
    filled in, and the folder ``hvc_MODULE`` is named after the school.
    """
    if not re.fullmatch(r"[a-z][a-z0-9-]*", school_id):
        raise InputError(f"school id {school_id!r} must be lower-case letters, digits and hyphens, e.g. 'oak-hill'")
    target = parent / school_id
    if target.exists():
        raise InputError(f"{target} already exists: choose another --dir or remove it first")
    module = "hvc_" + school_id.replace("-", "_")
    values = {"{{school_id}}": school_id, "{{module}}": module, "{{school_name}}": school_name}
    root = resources.files("hv_connector") / "template"
    for source, relative in _walk(root, Path()):
        rel = Path(str(relative).replace("hvc_MODULE", module))
        destination = target / rel.with_name(rel.name.removesuffix(TEMPLATE_SUFFIX))
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        destination.write_text(text, encoding="utf-8")
    return target


def _walk(node: Traversable, relative: Path) -> Iterator[tuple[Traversable, Path]]:
    for child in node.iterdir():
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, relative / child.name)
        elif child.name.endswith(TEMPLATE_SUFFIX):
            yield child, relative / child.name
