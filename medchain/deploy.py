"""The one deployment plan (order, constructor arguments) and the per-chain manifest.

Used by `scripts/deploy.py` (brownie run), `medchain deploy`, the demo and the tests.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from medchain import tx
from medchain.artifacts import load_artifact
from medchain.chain import Signer, signer_address
from medchain.contracts import Suite
from medchain.errors import ConfigError, InputError
from medchain.store import state_dir

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Step:
    """One contract of the plan; `args` builds its constructor arguments from the addresses so far."""

    name: str
    args: Callable[[dict[str, str]], list[Any]]


def plan(council: Sequence[str], names: Sequence[str], threshold: int, token: str | None) -> list[Step]:
    """The deployment plan. Without `token`, the test SettlementToken is deployed (local chains only)."""
    steps = [
        Step("Consortium", lambda a: [list(council), list(names), threshold]),
        Step("ConsentRegistry", lambda a: [a["Consortium"]]),
        Step("RecordRegistry", lambda a: [a["Consortium"], a["ConsentRegistry"]]),
    ]
    if token is None:
        steps.append(Step("SettlementToken", lambda a: []))
    steps += [
        Step(
            "ClaimsManager",
            lambda a: [
                a["Consortium"], a["ConsentRegistry"], a["RecordRegistry"], token or a["SettlementToken"]
            ],
        ),
        Step("DrugTrace", lambda a: [a["Consortium"]]),
    ]
    return steps


def manifest_dir() -> Path:
    """$MEDCHAIN_DEPLOYMENTS, else <state dir>/deployments."""
    env = os.environ.get("MEDCHAIN_DEPLOYMENTS")
    return Path(env).resolve() if env else state_dir() / "deployments"


def manifest_path(chain_id: int) -> Path:
    return manifest_dir() / f"{chain_id}.json"


def read_manifest(chain_id: int, path: Path | None = None) -> dict[str, Any]:
    """The manifest of a chain; ConfigError when there is none."""
    path = path or manifest_path(chain_id)
    if not path.is_file():
        raise ConfigError(f"no deployment for chain {chain_id} at {path}: run `medchain deploy` first")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        raise ConfigError(f"deployment manifest {path} is not valid JSON") from None
    if data.get("chainId") != chain_id:
        raise ConfigError(f"manifest {path} is for chain {data.get('chainId')}, the node is chain {chain_id}")
    return data


def is_live(w3: Web3, manifest: dict[str, Any]) -> bool:
    """True if the manifest's Consortium still has code on this chain (a restarted dev chain has none)."""
    entry = manifest.get("contracts", {}).get("Consortium")
    return bool(entry) and bool(w3.eth.get_code(Web3.to_checksum_address(entry["address"])))


def _validate(council: Sequence[str], names: Sequence[str], threshold: int) -> None:
    if not council:
        raise InputError("the council needs at least one member address")
    for address in council:
        if not Web3.is_address(address):
            raise InputError(f"council member {address!r} is not an address")
    if len(names) != len(council):
        raise InputError(f"{len(council)} council addresses but {len(names)} names")
    if not 1 <= threshold <= len(council):
        raise InputError(f"threshold {threshold} must be between 1 and the council size {len(council)}")


def deploy_all(
    w3: Web3,
    deployer: Signer,
    council: Sequence[str],
    names: Sequence[str] | None = None,
    threshold: int = 1,
    token: str | None = None,
    force: bool = False,
    write: bool = True,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Deploy the whole suite in plan order and write the chain's manifest; returns the manifest.

    Refuses when a live manifest exists for this chain unless `force`.
    """
    names = list(names) if names is not None else [f"Council member {i + 1}" for i in range(len(council))]
    council = [Web3.to_checksum_address(a) if Web3.is_address(a) else a for a in council]
    _validate(council, names, threshold)
    chain_id = w3.eth.chain_id
    path = manifest_path(chain_id)
    if write and not force and path.is_file():
        existing = read_manifest(chain_id, path)
        if is_live(w3, existing):
            raise ConfigError(
                f"chain {chain_id} already has a live deployment ({path}); pass --force to deploy a new suite"
            )
    addresses: dict[str, str] = {}
    entries: dict[str, Any] = {}
    for step in plan(council, names, threshold, token):
        artifact = load_artifact(step.name)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = tx.send(w3, factory.constructor(*step.args(addresses)), deployer)  # type: ignore[arg-type]
        address = str(receipt["contractAddress"])
        addresses[step.name] = address
        entries[step.name] = {
            "address": address,
            "block": receipt["blockNumber"],
            "tx": Web3.to_hex(receipt["transactionHash"]),
            "gasUsed": receipt["gasUsed"],
            "sourceSha1": artifact.source_sha,
        }
        if progress is not None:
            progress(step.name, entries[step.name])
    manifest = {
        "version": MANIFEST_VERSION,
        "chainId": chain_id,
        "deployedAt": int(time.time()),
        "deployer": signer_address(deployer),
        "compiler": load_artifact("Consortium").compiler,
        "evmVersion": "shanghai",
        "council": list(council),
        "threshold": threshold,
        "testToken": token is None,
        "contracts": entries,
    }
    if write:
        write_manifest(manifest, path)
    return manifest


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(path)


def load_suite(w3: Web3, manifest_file: Path | None = None) -> Suite:
    """The suite recorded for this chain."""
    manifest = read_manifest(w3.eth.chain_id, manifest_file)
    if not is_live(w3, manifest):
        raise ConfigError(
            f"the deployment recorded for chain {w3.eth.chain_id} has no code on this node "
            "(a restarted dev chain?): run `medchain deploy --force`"
        )
    return Suite.load(w3, manifest)
