"""Configuration: ``hvc.toml`` and ``HVC_*`` variables, read into checked settings.

- :mod:`.settings` — the settings models (one docstring under every field),
  loading them from the file and the environment, redaction for display, and
  the problems ``hvc config check`` reports.
"""
