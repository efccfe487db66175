"""``hvc dashboard`` refuses to open without knowing who is acting, as every other command does."""

from __future__ import annotations

from pathlib import Path

import pytest

from hv_connector.cli import main

CONFIG = """
[database]
url = "sqlite:///{db}"

[schools.potton]
name = "Potton Primary School (test)"
policy = "potton"

[[staff.potton]]
id = "pt-head"
name = "Hana Head-Test"
roles = ["headteacher"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hvc.toml"
    path.write_text(CONFIG.format(db=tmp_path / "hvc.db"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("args", "said"), [
    ([], "name who is using the dashboard: hvc dashboard --as STAFF_ID"),
    (["--as", "nobody"], "--as: 'nobody' is not in any school's staff directory"),
    (["--as", "pt-head", "--school", "elsewhere"], "--school: elsewhere is not configured; configured schools: potton"),
])
def test_the_dashboard_needs_a_known_person_and_school(config: Path, args: list[str], said: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "dashboard", *args]) == 2
    assert said in capsys.readouterr().err
