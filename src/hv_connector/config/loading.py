"""Which settings file to read, and reading it: the environment over the TOML file over the defaults."""

from __future__ import annotations

import codecs
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hv_connector.config.environment import deep_merge, environment_values
from hv_connector.config.messages import describe_errors
from hv_connector.config.settings import CONFIG_ENV, ENV_PREFIX, Settings, default_config_path
from hv_connector.errors import ConfigError


@dataclass(frozen=True)
class ConfigSource:
    """Which file the settings came from, and why that one."""

    path: Path
    origin: str
    """``--config``, ``HVC_CONFIG`` or ``default``."""

    @property
    def exists(self) -> bool:
        return self.path.is_file()


def config_source(path: Path | str | None = None) -> ConfigSource:
    """The config file to read: ``path`` (``--config``), else ``HVC_CONFIG``, else the default."""
    if path is not None:
        return ConfigSource(Path(path).expanduser(), "--config")
    if os.environ.get(CONFIG_ENV):
        return ConfigSource(Path(os.environ[CONFIG_ENV]).expanduser(), CONFIG_ENV)
    return ConfigSource(default_config_path(), "default")


def load_settings(path: Path | str | None = None) -> Settings:
    """Read the settings: environment over the TOML file over the defaults.

    :param path: the file ``--config`` names (default: ``HVC_CONFIG``, else ``hvc.toml`` in the config dir).
    :raises ConfigError: the file is missing (when named), unreadable or not TOML, or a setting is wrong;
        the message names every wrong setting and how to fix it, and never echoes a value.
    """
    source = config_source(path)
    if source.origin != "default" and not source.exists:
        raise ConfigError(f"config file {source.path} (from {source.origin}) does not exist: create it or fix the path")
    values = deep_merge(_file_values(source.path) if source.exists else {},
                        environment_values(Settings, os.environ, ENV_PREFIX))
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source.path)) from None


def _file_values(path: Path) -> dict[str, Any]:
    """The settings file's tables, as TOML reads them."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}; check its permissions") from None
    try:
        return tomllib.loads(_toml_text(raw, path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}); fix that line") from None


def _toml_text(raw: bytes, path: Path) -> str:
    """The file's text; TOML is UTF-8 without a byte-order mark, and Windows editors often save otherwise."""
    save_as = "save it as UTF-8 (in Notepad: File, Save as, Encoding: UTF-8, not \"UTF-8 with BOM\" or \"Unicode\")"
    if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ConfigError(f"config file {path} starts with a byte-order mark, which TOML does not allow: {save_as}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {raw[exc.start]:#04x} at position "
                          f"{exc.start}): {save_as}") from None
