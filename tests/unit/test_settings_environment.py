"""HVC_* variables reach the settings they name: JSON for tables and lists, text for single values."""

from __future__ import annotations

from pathlib import Path

import pytest

from hv_connector.config.loading import load_settings
from hv_connector.errors import ConfigError
from tests.configkit import write_config as write


def test_a_list_variable_holds_json_and_a_value_beneath_it_is_text(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WATCH__NOTIFIERS__COMMAND__ARGV", '["sms-send", "{to}"]')
    monkeypatch.setenv("HVC_WATCH__NOTIFIERS__COMMAND__TIMEOUT", "7")
    settings = load_settings(write(tmp_path / "hvc.toml", ""))
    assert settings.watch.notifiers.command is not None
    assert settings.watch.notifiers.command.argv == ["sms-send", "{to}"]
    assert settings.watch.notifiers.command.timeout == 7


def test_variables_for_keys_are_laid_over_a_table_given_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WONDE", '{"timeout": 2, "concurrency": 3}')
    monkeypatch.setenv("HVC_WONDE__TIMEOUT", "9")
    wonde = load_settings(write(tmp_path / "hvc.toml", "[wonde]\nrequests_per_second = 1\n")).wonde
    assert (wonde.timeout, wonde.concurrency, wonde.requests_per_second) == (9, 3, 1)


def test_variables_that_name_no_setting_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_CLOCK_START", "not a setting")
    monkeypatch.setenv("HVC_NOTIFY_TO", "not one either")
    assert load_settings(write(tmp_path / "hvc.toml", "")).schools == []


def test_a_list_variable_that_is_not_json_is_named_and_never_echoed(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WATCH__NOTIFIERS__EMAIL__ALWAYS_TO", "head@school.example, test-not-json-41")
    with pytest.raises(ConfigError, match="HVC_WATCH__NOTIFIERS__EMAIL__ALWAYS_TO must hold JSON") as caught:
        load_settings(write(tmp_path / "hvc.toml", ""))
    assert "test-not-json-41" not in str(caught.value)


def test_a_misspelt_key_in_a_variable_is_named_like_one_in_the_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WONDE__TIMEOTU", "5")
    with pytest.raises(ConfigError, match="wonde.timeotu is not a setting hv-connector knows"):
        load_settings(write(tmp_path / "hvc.toml", ""))
