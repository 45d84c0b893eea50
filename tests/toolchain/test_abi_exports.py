"""medchain/abi/*.json (what the package ships) must match brownie's build (regenerate with `make abi`)."""

from __future__ import annotations

import json

import pytest

from medchain.abi import ABI_DIR, EXPORTED
from medchain.artifacts import build_dir


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_abi_matches_build(name: str) -> None:
    built = build_dir() / f"{name}.json"
    if not built.is_file():
        pytest.fail(f"{built} missing: run `make compile`")
    exported = ABI_DIR / f"{name}.json"
    assert exported.is_file(), f"{exported} missing: run `make abi`"
    assert json.loads(exported.read_text()) == sorted_abi(json.loads(built.read_text())["abi"]), (
        f"{exported.name} drifted from build/: run `make abi`"
    )


def sorted_abi(abi: list) -> list:
    return json.loads(json.dumps(abi, sort_keys=True))
