"""What the trials share: a replayable seed, and ``hvc`` run in children forked from one pre-imported interpreter
(``tests/integration/forker.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FORKER = Path(__file__).parent / "integration" / "forker.py"


class Forker:
    """A forker.py process with ``HVC_CONFIG`` set to ``config``: start, kill and reap ``hvc`` children."""

    def __init__(self, config: Path) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HVC_")}
        environ.update(HVC_CONFIG=str(config), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, str(FORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=environ)
        assert json.loads(self._line()) == {"ready": True}

    def _line(self) -> str:
        assert self.proc.stdout
        return self.proc.stdout.readline()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request, read its answer."""
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer

    def push_and_kill(self, args: list[str], after: int, delay: float) -> bool:
        """Run ``hvc ARGS`` (a push); kill it ``delay`` s after its log line ``after``; whether it was killed."""
        return bool(self.ask({"args": args, "after": after, "delay": delay})["killed"])

    def start(self, args: list[str], out: Path, env: dict[str, str] | None = None) -> int:
        """Start ``hvc ARGS`` (output appended to ``out``, ``env`` added); its process id."""
        return int(self.ask({"start": args, "out": str(out), "env": env or {}})["pid"])

    def poll(self, pid: int) -> dict[str, Any] | None:
        """``None`` while the child ``pid`` runs; once it has ended (and is reaped), as :meth:`reap` says."""
        answer = self.ask({"poll": pid})
        return None if answer["running"] else answer

    def reap(self, pid: int) -> dict[str, Any]:
        """Wait for the child ``pid`` to end: ``{"killed": bool, "code": exit status or None}``."""
        return self.ask({"reap": pid})

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(10)


SEED_VARIABLE = "HVC_TRIAL_SEED"


def trial_seed() -> int:
    """The trial's seed: ``HVC_TRIAL_SEED`` when set (to replay a run), else a new one; printed either way.

    pytest shows the line with a failing trial's output (or with ``-s``): run again with
    ``HVC_TRIAL_SEED=<seed>`` to replay the same kills.
    """
    seed = int(os.environ.get(SEED_VARIABLE) or time.time_ns() % 1_000_000)
    print(f"trial seed: {SEED_VARIABLE}={seed}")
    return seed
