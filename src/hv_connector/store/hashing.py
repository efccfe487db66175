"""The one JSON text that hashing uses, and the hash of a value: shared by the audit chain and record hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit detail values must be JSON (or dates); got {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that hashing uses: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def digest(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
