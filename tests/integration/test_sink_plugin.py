"""A plugin's sink, chosen by name under [schools.ID.sink], with its own settings, raising the core's generic errors.

The plugin is a tiny pluggy plugin registered on a plugin manager, as an installed one would be;
the outbox is a real SQLite store.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from hv_connector import hookimpl
from hv_connector.config.checks import redacted, secret_values, sink_problems
from hv_connector.config.loading import load_settings
from hv_connector.config.settings import SchoolSettings, Settings
from hv_connector.errors import ConfigError, SinkOutcomeUnknown, SinkRefused
from hv_connector.outbox.push import Pusher
from hv_connector.outbox.queue import get_record
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery, open_sinks, sink_options
from hv_connector.plugins import build_plugin_manager, merged_registry
from hv_connector.store import Store
from tests.cpomskit import demo_visit, kit_policies, queue

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
API_KEY = "test-key-safeguard-5c1d"


class SafeguardSettings(BaseModel):
    """The plugin's own ``[schools.ID.sink]`` keys."""

    model_config = ConfigDict(extra="forbid")

    tenant: str
    api_key: SecretStr


class SafeguardSink:
    """Takes records for one tenant; refuses a pupil it cannot match, loses one answer, as a scripted remote."""

    def __init__(self, options: SafeguardSettings, stored: dict[str, str]) -> None:
        self.options, self.stored = options, stored

    async def __aenter__(self) -> SafeguardSink:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def find(self, report: VisitReport) -> Delivery | None:
        remote = self.stored.get(report.record_id)
        return Delivery(remote, already_there=True) if remote else None

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        if report.record_id == "v-refused":
            raise SinkRefused("Safeguard has no pupil with this UPN\nsent 3: check the pupil in Safeguard, then "
                              "`hvc outbox retry ID`", [{"field": "upn", "issue": "not_found"}])
        self.stored[report.record_id] = f"{self.options.tenant}-{len(self.stored) + 1}"
        if report.record_id == "v-lost" and len(self.stored) == 2:  # the first time only
            raise SinkOutcomeUnknown("Safeguard did not answer after the record went out")
        return Delivery(self.stored[report.record_id])


class SafeguardPlugin:
    """The plugin: registers the ``safeguard`` sink."""

    def __init__(self) -> None:
        self.sinks: list[SafeguardSink] = []
        self.stored: dict[str, str] = {}
        """The remote system's records, by our reference, across pushes."""

    @hookimpl
    def report_sinks(self) -> dict[str, Any]:
        def factory(settings: Settings, school: SchoolSettings) -> SafeguardSink:
            self.sinks.append(SafeguardSink(sink_options(SafeguardSettings, school), self.stored))
            return self.sinks[-1]

        return {"safeguard": factory}


@pytest.fixture
def store(sqlite_url: str) -> Store:
    with Store.open(sqlite_url) as opened:
        yield opened


def settings_with(tmp_path: Path, sink: str) -> Settings:
    path = tmp_path / "hvc.toml"
    path.write_text(f'[schools.oak]\nname = "Oak"\npolicy = "oak"\n[schools.oak.sink]\n{sink}\n', encoding="utf-8")
    path.chmod(0o600)
    return load_settings(path)


def pusher(store: Store, settings: Settings, plugin: SafeguardPlugin, now: datetime = NOW) -> Pusher:
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name="safeguard-plugin")
    return Pusher(store, open_sinks(settings, merged_registry(pm, "report_sinks"), settings.schools), now=lambda: now)


def test_a_plugin_sink_is_chosen_by_name_and_its_errors_park_or_wait(store: Store, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, f'name = "safeguard"\ntenant = "oak-academy"\napi_key = "{API_KEY}"')
    sent, refused, lost = queue(store, kit_policies("oak"), [demo_visit(None, "oak", 0, visit_id=v)
                                                             for v in ("v-sent", "v-refused", "v-lost")], NOW)
    plugin = SafeguardPlugin()
    summary = asyncio.run(pusher(store, settings, plugin).run())
    assert plugin.sinks[0].options.tenant == "oak-academy"
    assert {(o.outbox_id, o.result) for o in summary.outcomes} == {(sent, "sent"), (refused, "parked"), (lost, "waiting")}
    with store.connect() as conn:
        parked, waiting = get_record(conn, refused), get_record(conn, lost)
    assert parked.status == "parked" and "no pupil with this UPN\\x0asent 3" in (parked.last_error or "")
    assert waiting.status == "pending" and "asks the receiver by reference before sending again" in (waiting.last_error or "")

    # The next try asks first, finds the record that did arrive, and does not send it twice.
    later = asyncio.run(pusher(store, settings, plugin, NOW.replace(hour=13)).run())
    assert [(o.outbox_id, o.result, o.remote_id) for o in later.outcomes] == [(lost, "already-there", "oak-academy-2")]
    assert sorted(plugin.stored) == ["v-lost", "v-sent"]


def test_the_plugin_sinks_secret_is_redacted_and_a_wrong_setting_is_named(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, f'name = "safeguard"\ntenant = "oak-academy"\napi_key = "{API_KEY}"')
    shown = json.dumps(redacted(settings))
    assert API_KEY not in shown and '"api_key": "**********"' in shown and API_KEY in set(secret_values(settings))

    wrong = settings_with(tmp_path, 'name = "safeguard"\napi_key = "x"\ntennant = "oak"')
    sink_for = open_sinks(wrong, merged_registry(_with(SafeguardPlugin()), "report_sinks"), wrong.schools)
    with pytest.raises(ConfigError, match=r"the safeguard sink of school 'oak': `tenant` field required; `tennant` extra "
                                          r"inputs are not permitted: fix it under \[schools.oak.sink\] in hvc.toml"):
        sink_for("oak")
    unknown = settings_with(tmp_path, 'name = "myconcern"')
    with pytest.raises(ConfigError, match=r"report sink 'myconcern', which no installed plugin provides \(installed: "
                                          r"cpoms-api, manual, safeguard\)"):
        open_sinks(unknown, merged_registry(_with(SafeguardPlugin()), "report_sinks"), unknown.schools)("oak")


def test_config_check_names_what_each_school_sink_lacks(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, 'name = "cpoms-api"\nbase_url = "https://oak.cpoms.example/api/v1"')
    pm = _with(SafeguardPlugin())
    [problem] = sink_problems(settings, open_sinks(settings, merged_registry(pm, "report_sinks"), settings.schools))
    assert str(problem) == ("schools.oak.sink: school 'oak' has no CPOMS token: set `token` under [schools.oak.sink] "
                            "in hvc.toml")
    manual = settings_with(tmp_path, 'folder = "/srv/records/oak"')
    assert sink_problems(manual, open_sinks(manual, merged_registry(pm, "report_sinks"), manual.schools)) == []


def test_the_old_cpoms_table_is_read_as_the_cpoms_api_sink_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "hvc.toml"
    path.write_text('[schools.oak]\nname = "Oak"\npolicy = "oak"\n[schools.oak.cpoms]\n'
                    'base_url = "https://oak.cpoms.example/api/v1"\ntoken = "test-token-oak"\n', encoding="utf-8")
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING):
        school = load_settings(path).school("oak")
    assert school.sink.name == "cpoms-api" and school.sink.options()["base_url"] == "https://oak.cpoms.example/api/v1"
    assert 'rename the table to [schools.oak.sink] and add name = "cpoms-api"' in caplog.text
    assert "test-token-oak" not in caplog.text


def test_a_school_with_no_sink_table_uses_the_manual_sink(tmp_path: Path) -> None:
    path = tmp_path / "hvc.toml"
    path.write_text('[schools.oak]\nname = "Oak"\npolicy = "oak"\n', encoding="utf-8")
    assert load_settings(path).school("oak").sink.name == "manual"


def _with(plugin: SafeguardPlugin) -> Any:
    pm = build_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name="safeguard-plugin")
    return pm
