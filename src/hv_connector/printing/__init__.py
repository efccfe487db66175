"""hv-connector's one PDF library: everything the product prints (briefing packs, records, reports).

:func:`render` compiles a Typst template shipped in ``templates/`` with data passed as JSON, giving
a tagged PDF/UA-1 document, the same bytes for the same data; :func:`write_private` saves it where
only the service's user can read it. ``document.typ`` prints any :class:`Document`; ``briefing.typ``
the same shape laid out for a briefing pack. The ``typst`` wheel is imported only when printing.
"""

from hv_connector.printing.document import Block, Document, Items, Paragraph, Rows, Section, Table
from hv_connector.printing.files import write_private
from hv_connector.printing.render import page_count, render, template_names

__all__ = ["Block", "Document", "Items", "Paragraph", "Rows", "Section", "Table", "page_count", "render", "template_names",
           "write_private"]
