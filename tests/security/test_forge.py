"""The Foundry suites of test/foundry (invariants with handlers, EIP-712 and Merkle fuzzing, unit tests) with
foundry.toml's `ci` profile, or its `long` profile under MEDCHAIN_PROFILE=long (`make audit`). Runs
tools/forge_gate.py; skipped, with the reason, when no forge binary is installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from forge_gate import find_forge  # noqa: E402

PROFILE = "long" if os.environ.get("MEDCHAIN_PROFILE") == "long" else "ci"


def test_forge_suites_pass() -> None:
    if find_forge() is None:
        pytest.skip(
            "no forge binary: add @foundry-rs/forge-linux-amd64 to package.json (npm ci installs "
            "node_modules/.bin/forge) or set FORGE=/path/to/forge"
        )
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "forge_gate.py"), "--profile", PROFILE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600 if PROFILE == "ci" else 4 * 3600,
        check=False,
    )
    output = result.stdout + result.stderr
    failures = [line for line in output.splitlines() if re.match(r"\s*\[FAIL", line) or "Error" in line]
    assert result.returncode == 0, (
        f"forge test (FOUNDRY_PROFILE={PROFILE}) failed:\n"
        + "\n".join(failures[:40])
        + "\n\n"
        + output[-3000:]
    )
