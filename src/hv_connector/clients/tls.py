"""The TLS context every HTTP client verifies its server with, built once a process."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One certificate store for every client (loading it costs tens of milliseconds each time)."""
    return httpx.create_ssl_context()
