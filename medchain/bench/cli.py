"""CLI start-up time (issue 17 item 9): `medchain --help`, `--version` and a command's `--help`, each a fresh
process, the median of several runs. Target 0.3 s: web3 and the services load only in the commands that use
them (medchain.cli.GROUPS, medchain.lazy)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from medchain.bench import BenchContext

RUNS = 7
TARGET_SECONDS = 0.3
CASES = (["--help"], ["--version"], ["records", "--help"], ["claims", "approve", "--help"])


def command() -> list[str]:
    """The installed console script next to this Python, else `python -m medchain.cli`."""
    script = Path(sys.executable).with_name("medchain")
    return [str(script)] if script.exists() else [sys.executable, "-m", "medchain.cli"]


def start_seconds(args: list[str], runs: int = RUNS) -> float:
    """Median wall time of `medchain <args>` in a fresh process (output discarded)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*command(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rows(ctx: BenchContext) -> None:
    for args in CASES:
        seconds = start_seconds(args)
        ctx.add("CLI start", f"medchain {' '.join(args)}", round(seconds, 3), unit="s", target=TARGET_SECONDS,
                note=f"median of {RUNS} fresh processes")  # fmt: skip
