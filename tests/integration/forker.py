"""Run ``hvc push`` in forked child processes and SIGKILL each at a random moment of its work.

Used by test_exactly_once.py: importing hv-connector costs about a second of
CPU, so starting a fresh interpreter for each of a hundred kills would spend
the trial on imports. This process imports the CLI once; for each request
(one JSON line on stdin: ``{"args": [...], "after": lines, "delay": seconds}``)
it forks a child that runs ``hvc`` exactly as the console script does
(``cli.main``) in its own process, reads the child's log lines (``pushing N
due record(s)`` once it has read the outbox, then one per record settled),
and ``delay`` seconds after line number ``after`` (0 = the first) sends
SIGKILL. It answers one JSON line per request: ``{"killed": bool}``. The
plugins, the store's migrations and the HTTP stack are loaded before any fork,
as a long-running interpreter would have them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time

from hv_connector.cli import main


def warm_up() -> None:
    """Import what a push loads on first use, so each child starts its work at once."""
    import httpx

    from hv_connector.builtin import cpoms_sink  # noqa: F401
    from hv_connector.config.loading import load_settings
    from hv_connector.plugins import build_plugin_manager
    from hv_connector.store import Store

    build_plugin_manager()
    Store.open(load_settings().database.url).close()
    httpx.AsyncClient()


def run_and_kill(args: list[str], after: int, delay: float) -> bool:
    """Fork ``hvc ARGS``; kill it ``delay`` s after its log line ``after``; whether it died by SIGKILL."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: hvc push, its output into the pipe
        os.close(read_end)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        code = main(args)
        sys.stdout.flush()
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as output:
        lines = [output.readline()]
        while len(lines) <= after and lines[-1]:
            lines.append(output.readline())
        working = lines[0].startswith("pushing") and not lines[0].startswith("pushing 0 ")
        if working and lines[-1]:
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


if __name__ == "__main__":
    warm_up()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        killed = run_and_kill(request["args"], request["after"], request["delay"])
        print(json.dumps({"killed": killed}), flush=True)
