"""``hvc alarm UNIT`` (systemd's OnFailure=) reaches people through our own notifiers, and says loudly when it
cannot: no ``/usr/bin/mail`` needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.configkit import POTTON_HEAD, school_table, write_config


def _alarm(tmp_path: Path, argv: str) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path / "hvc.toml", f'[database]\nurl = "sqlite:///{tmp_path / "hvc.db"}"\n',
                          school_table(), POTTON_HEAD, f"\n[watch.notifiers.command]\nargv = {argv}\n")
    return subprocess.run([sys.executable, "-m", "hv_connector", "--config", str(config), "alarm", "hvc-status.service"],
                          capture_output=True, text=True, timeout=60)


def test_the_alarm_reaches_the_dsl_by_the_sms_command(tmp_path: Path) -> None:
    sent = tmp_path / "sent.txt"
    done = _alarm(tmp_path, f'["/bin/sh", "-c", "cat > {sent}; echo {{to}} >> {sent}"]')
    assert done.returncode == 0, done.stderr
    assert "Alarm sent: command:07700 900101" in done.stdout
    text = sent.read_text()
    assert "hvc-status.service failed on" in text and "The watch may have stopped" in text and "07700 900101" in text


def test_an_alarm_that_cannot_be_sent_is_logged_critical_and_exits_1(tmp_path: Path) -> None:
    done = _alarm(tmp_path, '["/nonexistent/sms-gateway", "{to}"]')
    assert done.returncode == 1
    assert "CRITICAL hv_connector.watch.alarm: ALARM NOT DELIVERED to command:07700 900101" in done.stderr
    assert "hvc: ALARM NOT DELIVERED to command:07700 900101: cannot run /nonexistent/sms-gateway" in done.stderr
