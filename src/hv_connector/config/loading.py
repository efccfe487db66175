"""Which settings file to read, and reading it: the environment over the TOML file over the defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hv_connector.config.messages import describe_errors
from hv_connector.config.settings import CONFIG_ENV, Settings, default_config_path, reading_file
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
    if source.exists:
        try:
            tomllib.loads(source.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {source.path}: {exc}; check its permissions") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {source.path} is not valid TOML ({exc}); fix that line") from None
    token = reading_file.set(source.path if source.exists else None)
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source.path)) from None
    finally:
        reading_file.reset(token)

