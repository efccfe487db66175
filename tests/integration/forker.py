"""Run ``hvc`` in forked child processes, for the trials that kill it a hundred times.

Used by test_exactly_once.py and the watch's trials: importing hv-connector
costs about a second of CPU, so starting a fresh interpreter for each of a
hundred kills would spend the trial on imports. This process imports the CLI
once (the plugins, the store's migrations, the HTTP stack and the watch loaded
before any fork, as a long-running interpreter would have them); each request
is one JSON line on stdin, answered by one JSON line:

- ``{"args": [...], "after": lines, "delay": seconds}``: fork a child that runs
  ``hvc ARGS`` exactly as the console script does (``cli.main``), read its log
  lines (``hvc push`` says ``pushing N due record(s)`` once it has read the
  outbox, then one line per record settled), and ``delay`` seconds after line
  number ``after`` (0 = the first) send SIGKILL; answers ``{"killed": bool}``.
- ``{"start": [...], "env": {...}, "out": path}``: fork a child running
  ``hvc START`` with ``env`` added to its environment and its output appended
  to ``path``; answers ``{"pid": pid}`` at once. The caller kills it (or lets
  it finish), then sends ``{"reap": pid}``, answered by ``{"running": false,
  "killed": bool, "code": exit status or null}`` once the child has ended;
  ``{"poll": pid}`` answers the same at once, or ``{"running": true}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import time

from hv_connector.cli import main


def warm_up() -> None:
    """Import what a push and a watch load on first use, so each child starts its work at once."""
    import httpx

    from hv_connector.builtin import cpoms_sink, notifiers  # noqa: F401
    from hv_connector.config.loading import load_settings
    from hv_connector.plugins import build_plugin_manager
    from hv_connector.store import Store
    from hv_connector.watch import daemon, tick  # noqa: F401

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
        first = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", lines[0])  # a log line's time stamp
        working = first.startswith("pushing") and not first.startswith("pushing 0 ")
        if working and lines[-1]:
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return killed_by_sigkill(status)


def start(args: list[str], env: dict[str, str], out: str) -> int:
    """Fork ``hvc ARGS`` with ``env`` added, its output appended to ``out``; its process id."""
    pid = os.fork()
    if pid == 0:
        os.environ.update(env)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        code = 70
        try:
            code = main(args)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def killed_by_sigkill(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


if __name__ == "__main__":
    warm_up()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "start" in request:
            answer: dict[str, object] = {"pid": start(request["start"], request.get("env", {}), request["out"])}
        elif "reap" in request or "poll" in request:
            pid, status = os.waitpid(request.get("reap") or request["poll"], 0 if "reap" in request else os.WNOHANG)
            answer = {"running": True} if pid == 0 else {
                "running": False, "killed": killed_by_sigkill(status),
                "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        else:
            answer = {"killed": run_and_kill(request["args"], request["after"], request["delay"])}
        print(json.dumps(answer), flush=True)
