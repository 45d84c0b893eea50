"""Compiled artifacts (ABI + bytecode) from brownie's build folder, needed to deploy."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medchain.errors import ConfigError


def project_root() -> Path:
    """The MedChain checkout: $MEDCHAIN_PROJECT, else the folder above this package."""
    env = os.environ.get("MEDCHAIN_PROJECT")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


def build_dir() -> Path:
    return project_root() / "build" / "contracts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    compiler: str
    source_sha: str


def load_artifact(name: str) -> Artifact:
    """Artifact of contract `name` from build/contracts (run `make compile` first)."""
    path = build_dir() / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"no compiled artifact for {name} at {path}: run `make compile` first")
    data = json.loads(path.read_text())
    bytecode = str(data.get("bytecode") or "")
    return Artifact(
        name=name,
        abi=list(data["abi"]),
        bytecode=bytecode if bytecode.startswith("0x") else "0x" + bytecode,
        compiler=str(data.get("compiler", {}).get("version", "")),
        source_sha=str(data.get("sha1", "")),
    )


def build_abis() -> list[list[dict[str, Any]]]:
    """ABIs of every artifact in build/contracts (empty when there is no build)."""
    folder = build_dir()
    if not folder.is_dir():
        return []
    abis = []
    for path in sorted(folder.glob("*.json")):
        try:
            abis.append(list(json.loads(path.read_text()).get("abi", [])))
        except (OSError, ValueError):
            continue  # a file being rewritten by a concurrent compile
    return abis
