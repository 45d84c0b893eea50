"""The suite's ABIs, exported from brownie's build by `scripts/export_abis.py` (a test checks for drift)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ABI_DIR = Path(__file__).resolve().parent

#: Contracts whose ABIs ship with the package (deployable contracts and the test token).
EXPORTED = (
    "Consortium",
    "ConsentRegistry",
    "RecordRegistry",
    "ClaimsManager",
    "DrugTrace",
    "SettlementToken",
)


@cache
def load_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of contract `name`: the packaged export, else brownie's build/ artifact."""
    exported = ABI_DIR / f"{name}.json"
    if exported.is_file():
        return list(json.loads(exported.read_text()))
    from medchain.artifacts import load_artifact  # a development checkout without exports yet

    return load_artifact(name).abi


def all_abis() -> list[list[dict[str, Any]]]:
    """Every ABI we can find: packaged exports plus any build/ artifacts (test harnesses included)."""
    abis = [list(json.loads(p.read_text())) for p in sorted(ABI_DIR.glob("*.json"))]
    from medchain.artifacts import build_abis

    return abis + build_abis()
