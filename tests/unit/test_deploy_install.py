"""``deploy/install`` against a temporary root: the folders and modes the issue names, idempotent, the config
kept; every unit rated OK by ``systemd-analyze security``; ``deploy/uninstall`` keeps the data unless told."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MAX_EXPOSURE = 2.5
"""systemd-analyze rates 2.5 or lower "OK"."""


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DEPLOY / script), *args], capture_output=True, text=True, timeout=120)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    done = _run("install", "--root", str(tmp_path), "--no-venv")
    assert done.returncode == 0, done.stderr
    assert "hvc access authorized-keys" in done.stdout and "systemctl enable --now hvc-watch.service" in done.stdout
    return tmp_path


def test_install_makes_the_folders_with_their_modes_and_keeps_the_config_on_a_rerun(root: Path) -> None:
    assert _mode(root / "etc/hv-connector") == 0o750
    assert _mode(root / "etc/hv-connector/hvc.toml") == 0o600
    assert _mode(root / "var/lib/hv-connector") == 0o700
    assert (root / "var/log/hv-connector").is_dir()
    assert 'url = "sqlite:////var/lib/hv-connector/hvc.db"' in (root / "etc/hv-connector/hvc.toml").read_text()
    config = root / "etc/hv-connector/hvc.toml"
    config.write_text(config.read_text() + "\n# filled in by the school\n")
    done = _run("install", "--root", str(root), "--no-venv")
    assert done.returncode == 0 and "Wrote" not in done.stdout
    assert config.read_text().endswith("# filled in by the school\n") and _mode(config) == 0o600
    units = {p.name for p in (root / "etc/systemd/system").glob("hvc-*")}
    assert {"hvc-watch.service", "hvc-push.timer", "hvc-sync.timer", "hvc-sync-full.timer", "hvc-status.timer",
            "hvc-backup.timer", "hvc-alarm@.service", "hvc-.service.d"} <= units
    assert "/var/log/hv-connector/*.log" in (root / "etc/logrotate.d/hv-connector").read_text()


def test_every_unit_is_rated_ok_by_systemd_analyze_security(root: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze (Debian's systemd package) is not installed")
    for unit in sorted((DEPLOY / "systemd").glob("hvc-*.service")):
        name = unit.name.replace("@.", "@test.")
        done = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={root}", name],
                              capture_output=True, text=True, timeout=60)
        if "--offline" in done.stderr and "unrecognized" in done.stderr:
            pytest.skip("this systemd-analyze has no --offline (systemd 250 or later has)")
        rated = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
        assert rated, done.stdout + done.stderr
        assert float(rated.group(1)) <= MAX_EXPOSURE, f"{unit.name}: {rated.group(0)}"


def test_uninstall_keeps_the_settings_and_the_store_unless_purged(root: Path) -> None:
    (root / "var/lib/hv-connector/hvc.db").write_bytes(b"the store")
    done = _run("uninstall", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert not list((root / "etc/systemd/system").glob("hvc-*")) and not (root / "opt/hv-connector").exists()
    assert (root / "var/lib/hv-connector/hvc.db").read_bytes() == b"the store"
    assert (root / "etc/hv-connector/hvc.toml").exists()
    assert _run("uninstall", "--root", str(root), "--purge").returncode == 0
    assert not (root / "var/lib/hv-connector").exists() and not (root / "etc/hv-connector").exists()


@pytest.mark.slow
def test_a_real_install_from_the_wheels_runs_hvc(tmp_path: Path) -> None:
    wheels = tmp_path / "dist"
    for project in [DEPLOY.parent, *sorted((DEPLOY.parent / "plugins").iterdir())]:
        built = subprocess.run([str(Path(sys.executable).parent / "uv"), "build", "--quiet", "--wheel", "--out-dir",
                                str(wheels), str(project)], capture_output=True, text=True, timeout=600)
        assert built.returncode == 0, built.stderr
    done = _run("install", "--root", str(tmp_path / "root"), "--wheels", str(wheels))
    assert done.returncode == 0, done.stderr
    hvc = tmp_path / "root/opt/hv-connector/.venv/bin/hvc"
    plugins = subprocess.run([str(hvc), "plugins"], capture_output=True, text=True, timeout=120)
    assert plugins.returncode == 0 and "potton" in plugins.stdout, plugins.stderr
