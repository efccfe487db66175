"""The runtime builds what a command needs from the settings, and nothing it does not need."""

from __future__ import annotations

from pathlib import Path

import pytest

from hv_connector.errors import PolicyNotFound
from hv_connector.runtime import Runtime
from hv_connector.store.migrate import head_revision
from tests.configkit import POTTON_HEAD, school_table, write_config


def test_without_configuration_every_installed_policy_serves_its_own_school() -> None:
    rt = Runtime()
    assert {"potton", "birchwood"} <= set(rt.policies.schools())
    assert rt.policies.info("potton").school_id == "potton"
    assert rt.options("potton") == {} and rt.staff("potton") == {}


def test_configured_schools_use_the_plugin_the_settings_name(tmp_path: Path) -> None:
    path = write_config(tmp_path / "hvc.toml", school_table(), '[schools.potton.options]\nevening_from = "17:30"\n',
                        school_table("oak-hill", "Oak Hill Primary", mis_school_id=None),
                        POTTON_HEAD)
    rt = Runtime(config_path=path)
    assert rt.policies.schools() == ["oak-hill", "potton"]
    assert rt.policies.plugin_for("potton")[0] == "potton"
    with pytest.raises(PolicyNotFound, match="uses policy plugin 'oak-hill', which is not installed"):
        rt.policies.plugin_for("oak-hill")
    with pytest.raises(PolicyNotFound, match="'birchwood' is not configured"):
        rt.policies.plugin_for("birchwood")
    assert rt.options("potton") == {"evening_from": "17:30"}
    assert rt.school("potton").name == "Potton Lower School"
    assert rt.staff("potton")["pt-head"].name == "Alex Example"


def test_the_store_is_opened_only_when_asked_for(tmp_path: Path) -> None:
    db = tmp_path / "stores" / "hvc.db"
    rt = Runtime(config_path=write_config(tmp_path / "hvc.toml", f'[database]\nurl = "sqlite:///{db}"\n'))
    assert rt.policies.schools()  # settings read, plugins loaded ...
    assert not db.exists()  # ... and no store opened
    assert rt.store.revision() == head_revision()
    assert db.exists()
    rt.close()
