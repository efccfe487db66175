"""Settings from ``HVC_*`` variables, as nested tables ready to lay over the file's.

``HVC_WONDE__TOKEN`` is ``token`` under ``[wonde]``: the name after the
prefix, lower-cased, split on ``__``. A variable for a table or a list
(``HVC_SCHOOLS``, ``HVC_WATCH__NOTIFIERS__EMAIL__ALWAYS_TO``) holds JSON;
one for a single value is passed on as text, for the settings models to check.
Variables that name no setting (``HVC_CONFIG``, ``HVC_CLOCK_START``) are not
settings and are left alone.

The rules are those of pydantic-settings' environment source with a nested
delimiter, which hv-connector used before: its import cost more than the rest
of ``hvc status``'s own start, which cron pays every few minutes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from hv_connector.errors import ConfigError

NESTED = "__"
"""Separates the tables in a variable's name: ``HVC_SCHOOLS__POTTON__NAME``."""


def environment_values(model: type[BaseModel], environ: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """The settings ``environ``'s ``prefix…`` variables give, as nested tables keyed like ``model``'s fields.

    A table a variable gives whole (``HVC_WONDE='{"timeout": 3}'``) has the variables for its
    keys (``HVC_WONDE__TOKEN``) laid over it; a list given whole wins over them.

    :raises ConfigError: a variable for a table or list does not hold JSON (the message names the
        variable, never its value).
    """
    values: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for name, text in sorted(environ.items()):
        if not name.upper().startswith(prefix):
            continue
        field, *keys = name[len(prefix):].lower().split(NESTED)
        if field not in model.model_fields:
            continue  # HVC_CONFIG, HVC_CLOCK_START …: read elsewhere, not settings
        annotation = model.model_fields[field].annotation
        if not keys:
            values[field] = _decoded(name, text, _json_rule(annotation, declared=True))
            continue
        table: Any = parts.setdefault(field, {})
        found: tuple[Any, bool] | None = (annotation, True)
        for key in keys[:-1]:
            found = _inner(found[0], key) if found else None
            table = table.setdefault(key, {}) if isinstance(table, dict) else None
        found = _inner(found[0], keys[-1]) if found else None
        if not isinstance(table, dict):
            continue  # a value was given for a table on the way: it stands
        # Below a list, or under a key no model declares, JSON is tried only within a plain table (`staff`).
        rule = _json_rule(*found) if found else "try" if _origin_is(annotation, Mapping) else "text"
        table[keys[-1]] = _decoded(name, text, rule)
    for field, table in parts.items():
        given = values.get(field)
        if given is None or isinstance(given, dict):
            values[field] = deep_merge(given or {}, table)
    return values


def _inner(annotation: Any, key: str) -> tuple[Any, bool] | None:
    """The type found under ``key`` in ``annotation``, and whether a model declares it as a field."""
    if _origin_is(annotation, Mapping):
        args = get_args(annotation)
        return (args[-1], False) if args else None
    for arg in get_args(annotation):  # `X | None`, `list[X]`
        found = _inner(arg, key)
        if found is not None:
            return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and key in annotation.model_fields:
        return annotation.model_fields[key].annotation, True
    return None


def _json_rule(annotation: Any, declared: bool) -> str:
    """``"must"`` hold JSON (a declared table or list), ``"try"`` JSON (else text), or ``"text"``."""
    if _is_complex(annotation):
        return "must" if declared else "try"
    if declared and _origin_is_union(annotation) and any(_is_complex(arg) for arg in get_args(annotation)):
        return "try"
    return "text"


def _is_complex(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, str | bytes):
        return False
    kinds = (BaseModel, Mapping, Sequence, tuple, set, frozenset)
    return any(isinstance(t, type) and issubclass(t, kinds) for t in (annotation, get_origin(annotation)))


def _origin_is(annotation: Any, kind: type) -> bool:
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, kind)


def _origin_is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType)


def _decoded(name: str, text: str, rule: str) -> Any:
    if rule == "text" or not text:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if rule == "try":
            return text
        raise ConfigError(f"{name} must hold JSON, a list or a table ({exc.msg} at character {exc.pos + 1}): "
                          f"fix the variable, or unset it and set the setting in hvc.toml") from None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on it: tables merge key by key, anything else in ``over`` replaces."""
    merged = dict(base)
    for key, value in over.items():
        both = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = deep_merge(merged[key], value) if both else value
    return merged
