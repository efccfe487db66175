"""The autouse isolation fixture keeps the developer's machine out, but not a trial's replay seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_trial_seed_set_by_the_developer_reaches_the_test_and_other_hvc_settings_do_not(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text("import os\n\ndef test_probe():\n"
                     "    assert os.environ.get('HVC_TRIAL_SEED') == '4242'\n"
                     "    assert 'HVC_CONFIG' not in os.environ\n", encoding="utf-8")
    # The probe lives outside the checkout, so the project's conftest is loaded into it as a plugin.
    env = {**os.environ, "HVC_TRIAL_SEED": "4242", "HVC_CONFIG": str(tmp_path / "nowhere.toml"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
                           "--rootdir", str(tmp_path), str(probe)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
