#!/usr/bin/env python3
"""Runs MedChain's Foundry suites (test/foundry) with a foundry.toml profile (issue #8).

    python tools/forge_gate.py                 # FOUNDRY_PROFILE=ci: the `make test` gate (~1 min)
    python tools/forge_gate.py --profile long  # `make audit`: >= 100x the ci profile's runs and calls
    python tools/forge_gate.py -- --match-contract ClaimsInvariants -vvv   # extra forge arguments

The forge binary is looked up as $FORGE, then node_modules/.bin/forge (npm package
@foundry-rs/forge-linux-amd64), then PATH. Exit status is forge's; 3 if no forge binary was found.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_FORGE = 3


def find_forge() -> str | None:
    """The forge binary to use, or None."""
    candidates = [
        os.environ.get("FORGE"),
        str(ROOT / "node_modules" / ".bin" / "forge"),
        shutil.which("forge"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def forge_env(profile: str) -> dict[str, str]:
    env = dict(os.environ, FOUNDRY_PROFILE=profile)
    env.pop("FOUNDRY_FUZZ_SEED", None)  # the profile decides: fixed seed in ci, random in long
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci", choices=["ci", "long", "default"])
    parser.add_argument("forge_args", nargs="*", help="extra arguments for `forge test` (after --)")
    args = parser.parse_args(argv)
    forge = find_forge()
    if forge is None:
        print("forge gate: no forge binary ($FORGE, node_modules/.bin/forge, PATH)", file=sys.stderr)
        return NO_FORGE
    command = [forge, "test", *args.forge_args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=forge_env(args.profile), check=False)
    print(f"forge gate: profile {args.profile}, exit {result.returncode}, {time.monotonic() - started:.0f} s")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
