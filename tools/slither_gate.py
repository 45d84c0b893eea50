#!/usr/bin/env python3
"""Slither gate for MedChain's production contracts (issue #8).

Runs slither once over every production contract (contracts/**/*.sol except contracts/test/), compiled in
one solc-js run through the project's adapter (tools/solc), and fails on any High or Medium finding that is
not triaged in slither.triage.json with a written reason. Low/Informational/Optimization findings are
counted and listed with --verbose, never fatal.

Why not the slither CLI: crytic-compile walks up from the working directory and, finding foundry.toml,
asks `forge config` for remappings and a solc version (replacing ours) even when told to use plain solc;
only the `foundry_ignore` keyword, which the CLI does not expose, turns that off. So this runner drives
slither's Python API with the settings of slither.config.json plus `foundry_ignore=True`. Why not
brownie's build: `brownie compile --all` rewrites the shared build/ directory that other test runs read;
the adapter route writes nothing but a throw-away entry file under reports/tmp/ and takes ~20 s.

Triage entries (slither.triage.json) are keyed by detector and code location, not by slither's line-based
ids, so they survive edits elsewhere in a file:
    {"check": "incorrect-equality", "where": "ClaimsManager.decisionWindowOf", "reason": "..."}
`where` is Contract.function (or Contract.function.variable); it matches a finding when it names any
element of the finding or an enclosing function of one. An optional "contains" narrows it to findings
whose description contains that text. Entries that match nothing any more are reported as stale.

Usage: python tools/slither_gate.py [--json FILE] [--verbose]
Exit 0 = pass, 1 = untriaged High/Medium, 2 = slither could not run (compile error, bad config).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "slither.config.json"
TRIAGE = ROOT / "slither.triage.json"
GATED = ("High", "Medium")


def production_sources() -> list[str]:
    """Every production .sol file, relative to the root (contracts/test/ excluded)."""
    files = sorted(
        p
        for p in (ROOT / "contracts").rglob("*.sol")
        if "test" not in p.relative_to(ROOT / "contracts").parts[:-1]
    )
    return [str(p.relative_to(ROOT)) for p in files]


def write_entry(sources: list[str]) -> Path:
    """A throw-away file importing every production source, so one compilation covers them all."""
    entry_dir = ROOT / "reports" / "tmp" / "slither"
    entry_dir.mkdir(parents=True, exist_ok=True)
    entry = entry_dir / f"Entry{os.getpid()}.sol"
    lines = ["// SPDX-License-Identifier: MIT", "pragma solidity ^0.8.20;"]
    lines += [f'import "../../../{src}";' for src in sources]
    entry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return entry


def load_settings() -> dict[str, Any]:
    settings = json.loads(CONFIG.read_text(encoding="utf-8"))
    filters = settings.pop("filter_paths", "")
    settings["filter_paths"] = (
        [f for f in filters.split("|") if f] if isinstance(filters, str) else list(filters)
    )
    solc = settings.get("solc", "solc")
    if "/" in solc and not os.path.isabs(solc):
        settings["solc"] = str(ROOT / solc)
    settings["foundry_ignore"] = True  # see the module docstring
    return settings


def run_slither(entry: Path, settings: dict[str, Any]) -> list[dict[str, Any]]:
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector
    from slither.slither import Slither

    slither = Slither(str(entry.relative_to(ROOT)), **settings)
    for obj in vars(all_detectors).values():
        if inspect.isclass(obj) and issubclass(obj, AbstractDetector) and obj is not AbstractDetector:
            slither.register_detector(obj)
    return [result for per_detector in slither.run_detectors() for result in per_detector]


def element_paths(finding: dict[str, Any]) -> set[str]:
    """Dotted names of every element of a finding and of their enclosing functions/contracts."""
    names: set[str] = set()
    for element in finding.get("elements", []):
        chain: list[str] = []
        node: dict[str, Any] | None = element
        while node:
            if node.get("type") != "node" and node.get("name"):
                chain.append(str(node["name"]).split("(")[0])
            node = node.get("type_specific_fields", {}).get("parent")
        chain.reverse()
        for i in range(1, len(chain) + 1):
            names.add(".".join(chain[:i]))
    return names


def load_triage() -> list[dict[str, str]]:
    if not TRIAGE.exists():
        return []
    entries = json.loads(TRIAGE.read_text(encoding="utf-8")).get("findings", [])
    for entry in entries:
        if not entry.get("reason", "").strip() or "." not in entry.get("where", ""):
            raise ValueError(
                f"slither.triage.json: every entry needs a reason and a Contract.function `where`: {entry}"
            )
    return entries


def triage_of(finding: dict[str, Any], entries: list[dict[str, str]]) -> dict[str, str] | None:
    paths = element_paths(finding)
    for entry in entries:
        if entry["check"] != finding["check"] or entry["where"] not in paths:
            continue
        if entry.get("contains") and entry["contains"] not in finding.get("description", ""):
            continue
        return entry
    return None


def first_line(finding: dict[str, Any]) -> str:
    return finding.get("description", "").strip().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write all findings with their triage to this file")
    parser.add_argument(
        "--verbose", action="store_true", help="also list Low/Informational/Optimization findings"
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)

    started = time.monotonic()
    sources = production_sources()
    entry = write_entry(sources)
    try:
        settings = load_settings()
        entries = load_triage()
        findings = run_slither(entry, settings)
    except Exception as exc:  # slither/crytic-compile raise many types; report one line and exit 2
        print(f"slither gate: slither could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        entry.unlink(missing_ok=True)
    elapsed = time.monotonic() - started

    untriaged, triaged, other = [], [], []
    used: set[int] = set()
    for finding in findings:
        if finding["impact"] not in GATED:
            other.append(finding)
            continue
        entry_ = triage_of(finding, entries)
        if entry_ is None:
            untriaged.append(finding)
        else:
            used.add(id(entry_))
            triaged.append((finding, entry_))

    print(
        f"slither {len(sources)} production sources, {len(findings)} findings in {elapsed:.1f} s "
        f"({len(triaged)} High/Medium triaged, {len(untriaged)} untriaged, "
        f"{len(other)} Low/Info/Optimization)"
    )
    for finding, entry_ in triaged:
        print(f"  triaged  [{finding['impact']}] {finding['check']}: {entry_['where']} -- {entry_['reason']}")
    for entry_ in entries:
        if id(entry_) not in used:
            print(f"  stale triage entry (matches nothing now): {entry_['check']} {entry_['where']}")
    if args.verbose:
        for finding in other:
            print(f"  [{finding['impact']}] {finding['check']}: {first_line(finding)}")
    for finding in untriaged:
        impact = f"{finding['impact']}/{finding['confidence']}"
        print(f"  UNTRIAGED [{impact}] {finding['check']}: {first_line(finding)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        dump = [dict(f, triage=(triage_of(f, entries) or {}).get("reason")) for f in findings]
        args.json.write_text(json.dumps(dump, indent=1), encoding="utf-8")
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main())
