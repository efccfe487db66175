"""``python -m hv_connector`` is ``hvc``."""

from hv_connector.cli import run

run()
