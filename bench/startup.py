"""Benchmark: how long ``hvc --version`` and ``hvc status`` take to start, vs importing their dependencies.

Every cron run and every subprocess test pays ``hvc``'s start-up. Each command
runs as a fresh process, as cron runs it, against a temporary settings file and
store made before the timing starts. Each is compared with its dependency
floor, a bare ``python -c "import …"`` of the libraries it cannot do without,
timed in the same rounds (interleaved, median of N: the machines are shared
and noisy, so only the ratios are compared to the targets).

Bytecode is cached, as in an installed copy (pip compiles it at install), even
where PYTHONDONTWRITEBYTECODE is set: the cache goes to a temporary
PYTHONPYCACHEPREFIX, for the floors and hvc alike, so the warm-up round fills
it without writing into the checkout.

    .venv/bin/python bench/startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HVC = str(Path(sys.executable).with_name("hvc"))
"""The installed console script, as cron and users run it."""

VERSION_TARGET = 2.0
STATUS_TARGET = 1.5


def timed(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds ``argv`` takes to run to the end; it must exit 0 or 1 (``hvc status``: the watch never ran)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1) or done.stderr:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def prepared_config(home: Path) -> tuple[Path, dict[str, str]]:
    """A settings file naming an SQLite store in ``home``, the store made, and an environment free of HVC_*.

    The environment caches bytecode under ``home`` (see the module docstring).
    """
    config = home / "hvc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{home / "hvc.db"}"\n', encoding="utf-8")
    config.chmod(0o600)  # hv-connector refuses a settings file others can read
    env = {key: value for key, value in os.environ.items() if not key.startswith("HVC_")}
    env["HOME"] = str(home)  # keep the developer's own config directory out
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    subprocess.run([HVC, "--config", str(config), "db", "upgrade"], env=env, check=True, capture_output=True)
    return config, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hvc-bench-startup-") as tmp:
        config, env = prepared_config(Path(tmp))
        runs = {
            "version floor": [sys.executable, "-c", "import click, pydantic"],
            "hvc --version": [HVC, "--version"],
            "status floor": [sys.executable, "-c", "import sqlalchemy, pydantic, click, pluggy"],
            "hvc status": [HVC, "--config", str(config), "status"],
        }
        for argv in runs.values():  # warm the OS file cache and the bytecode caches
            timed(argv, env)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, argv in runs.items():
                times[name].append(timed(argv, env))

    median = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in median.items():
        print(f"{name}: {seconds * 1000:.0f} ms (median of {args.rounds})")
    print(f"version_vs_floor: {median['hvc --version'] / median['version floor']:.2f}x (target <= {VERSION_TARGET:.1f}x)")
    print(f"status_vs_floor: {median['hvc status'] / median['status floor']:.2f}x (target <= {STATUS_TARGET:.1f}x)")


if __name__ == "__main__":
    main()
