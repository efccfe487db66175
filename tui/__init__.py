"""The hv-connector dashboard: a Textual app for the safeguarding lead (``hvc dashboard``).

It imports the core; the core never imports it (an import-linter contract checks this).
"""

from hvc_tui.app import HvcApp

__all__ = ["HvcApp"]
