"""Configuration: ``hvc.toml`` and ``HVC_*`` variables, read into checked settings.

- :mod:`.settings` — the settings models (one docstring under every field).
- :mod:`.loading` — which file to read, and reading the settings: the
  environment over the file over the defaults.
- :mod:`.environment` — the ``HVC_*`` variables as nested tables.
- :mod:`.messages` — errors that name the setting and its fix.
- :mod:`.checks` — redaction for display, and the problems ``hvc config check`` reports.
"""
