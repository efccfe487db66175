"""``hvc dashboard`` refuses to open without knowing who is acting, as every other command does."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from hv_connector.cli import main
from tests.configkit import POTTON_HEAD, school_table, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "hvc.toml", f'[database]\nurl = "sqlite:///{tmp_path / "hvc.db"}"\n',
                        school_table(mis_school_id=None), POTTON_HEAD)


@pytest.mark.parametrize(("args", "said"), [
    ([], "name who is using the dashboard: hvc dashboard --as STAFF_ID"),
    (["--as", "nobody"], "--as: 'nobody' is not in any school's staff directory"),
    (["--as", "pt-head", "--school", "elsewhere"], "--school: elsewhere is not configured; configured schools: potton"),
])
def test_the_dashboard_needs_a_known_person_and_school(config: Path, args: list[str], said: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "dashboard", *args]) == 2
    assert said in capsys.readouterr().err


def test_the_dashboard_refuses_another_schools_board_to_the_person_signed_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    signed_in = POTTON_HEAD + f'logins = ["{getpass.getuser()}"]\n'
    config = write_config(tmp_path / "hvc.toml", f'[database]\nurl = "sqlite:///{tmp_path / "hvc.db"}"\n',
                          school_table(mis_school_id=None), school_table("birchwood", "Birchwood", mis_school_id=None),
                          signed_in)
    monkeypatch.delenv("HVC_ACCESS__ACT_FOR_OTHERS")
    assert main(["--config", str(config), "dashboard", "--school", "birchwood"]) == 1
    assert ("school birchwood's dashboard belongs to birchwood, and Alex Example works in potton only"
            in capsys.readouterr().err)
