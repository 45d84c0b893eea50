#!/usr/bin/env python3
"""Line and branch coverage of MedChain's production contracts from the Foundry suites (issue #8).

Runs `forge coverage` (FOUNDRY_PROFILE=ci) over the unit and fuzz suites of test/foundry (`--all` adds the
invariant campaigns, which only add to the figures and cost ~30 s more), writes reports/coverage.txt (a
per-contract table) and reports/lcov.info, prints the table, and fails when any production contract
(contracts/**/*.sol outside contracts/test/) is below --min percent of lines or of branches (default 95).

    python tools/coverage.py [--all] [--min 95] [--no-check]

Exit 0 = all at or above the bar, 1 = below, 2 = forge coverage failed, 3 = no forge binary.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forge_gate import NO_FORGE, ROOT, find_forge, forge_env  # noqa: E402

REPORTS = ROOT / "reports"
LCOV = REPORTS / "lcov.info"
TABLE = REPORTS / "coverage.txt"
NOT_MEASURED = "(node_modules|test/)"  # OpenZeppelin, contracts/test harnesses, test/foundry


@dataclass
class FileCoverage:
    path: str
    lines_hit: int = 0
    lines: int = 0
    branches_hit: int = 0
    branches: int = 0
    functions_hit: int = 0
    functions: int = 0

    @staticmethod
    def pct(hit: int, total: int) -> float:
        return 100.0 if total == 0 else 100.0 * hit / total

    @property
    def line_pct(self) -> float:
        return self.pct(self.lines_hit, self.lines)

    @property
    def branch_pct(self) -> float:
        return self.pct(self.branches_hit, self.branches)


def parse_lcov(text: str) -> list[FileCoverage]:
    files: list[FileCoverage] = []
    current: FileCoverage | None = None
    for raw in text.splitlines():
        key, _, value = raw.strip().partition(":")
        if key == "SF":
            current = FileCoverage(value)
            files.append(current)
        elif current is None:
            continue
        elif key == "LF":
            current.lines = int(value)
        elif key == "LH":
            current.lines_hit = int(value)
        elif key == "BRF":
            current.branches = int(value)
        elif key == "BRH":
            current.branches_hit = int(value)
        elif key == "FNF":
            current.functions = int(value)
        elif key == "FNH":
            current.functions_hit = int(value)
    return files


def is_production(path: str) -> bool:
    rel = Path(path)
    if rel.is_absolute():
        rel = rel.relative_to(ROOT)
    return rel.parts[0] == "contracts" and "test" not in rel.parts[1:-1]


def render(files: list[FileCoverage], scope: str, elapsed: float) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        f"MedChain contract coverage ({scope}; forge coverage, FOUNDRY_PROFILE=ci), {stamp}, {elapsed:.0f} s",
        "",
        f"{'contract':34} {'lines':>17} {'branches':>15} {'functions':>15}",
    ]
    for f in sorted(files, key=lambda f: f.path):
        rows.append(
            f"{f.path:34} {f.line_pct:6.2f}% {f'({f.lines_hit}/{f.lines})':>9} "
            f"{f.branch_pct:6.2f}% {f'({f.branches_hit}/{f.branches})':>7} "
            f"{f.pct(f.functions_hit, f.functions):6.2f}% {f'({f.functions_hit}/{f.functions})':>7}"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="include the invariant campaigns")
    parser.add_argument(
        "--min", type=float, default=95.0, help="minimum line and branch percent per contract"
    )
    parser.add_argument("--no-check", action="store_true", help="report only, never fail on the minimum")
    args = parser.parse_args(argv)
    forge = find_forge()
    if forge is None:
        print("coverage: no forge binary ($FORGE, node_modules/.bin/forge, PATH)", file=sys.stderr)
        return NO_FORGE
    REPORTS.mkdir(exist_ok=True)
    command = [
        forge,
        "coverage",
        "--report",
        "summary",
        "--report",
        "lcov",
        "--report-file",
        str(LCOV),
        "--no-match-coverage",
        NOT_MEASURED,
    ]
    if not args.all:
        command += ["--match-path", "test/foundry/{unit,fuzz}/*"]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=forge_env("ci"), capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0 or not LCOV.exists():
        print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
        print(f"coverage: forge coverage failed (exit {result.returncode})", file=sys.stderr)
        return 2
    files = [f for f in parse_lcov(LCOV.read_text(encoding="utf-8")) if is_production(f.path)]
    table = render(files, "unit + fuzz + invariant suites" if args.all else "unit + fuzz suites", elapsed)
    TABLE.write_text(table, encoding="utf-8")
    print(table, end="")
    below = [f for f in files if f.line_pct < args.min or f.branch_pct < args.min]
    for f in below:
        print(
            f"coverage: {f.path} below {args.min:.0f}%: lines {f.line_pct:.2f}%, branches {f.branch_pct:.2f}%"
        )
    return 1 if below and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
