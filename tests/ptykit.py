"""Run ``hvc`` on a real terminal (a pty) and keep every byte the terminal would get."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def run_in_pty(*args: str, env: dict[str, str]) -> bytes:
    """``hvc ARGS`` with a terminal for its stdout and stderr: every byte the terminal would get."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "hv_connector", *args], stdin=subprocess.DEVNULL,
                               stdout=follower, stderr=follower, env=env)
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed: the process has gone
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.wait(timeout=30) == 0, received.decode(errors="replace")
    return received
