"""hv-connector: safe, well-recorded school home visits.

Plugins implement hooks marked with :data:`hookimpl`; the specifications live
in :mod:`hv_connector.hookspecs`.
"""

import pluggy

__version__ = "0.1.0"

PROJECT = "hv_connector"
"""The pluggy project name and the entry-point group plugins register under."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator marking a function or method as an hv-connector hook implementation."""

__all__ = ["PROJECT", "__version__", "hookimpl"]
