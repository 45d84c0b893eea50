"""Privacy scan: look for personal data in everything a chain keeps — every storage slot of every
contract, every event's topics and data, and every transaction's calldata to the suite — in raw, hex and
unsalted-hash forms.

DESIGN §5: nothing that identifies a patient or describes health goes on chain. The demo plants names,
national ID numbers, diagnosis codes and note texts in its generated records; `scan` must find none.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from medchain.chain import transactions_to
from medchain.errors import ChainError


@dataclass(frozen=True)
class Finding:
    needle: str  # the planted value
    form: str  # raw | hex | keccak256 | sha256 | keccak256(abi.encode(string))
    where: str  # "storage <address> slot <n>" or "event <address> block <n> tx <hash>"


def forms(value: str) -> dict[str, bytes]:
    """The byte patterns under which `value` could sit on chain."""
    raw = value.encode("utf-8")
    return {
        "raw": raw,
        "hex": raw.hex().encode("ascii"),
        "keccak256": keccak(raw),
        "sha256": hashlib.sha256(raw).digest(),
        "keccak256(abi.encode(string))": keccak(encode(["string"], [value])),
    }


def storage_words(w3: Web3, addresses: Iterable[str]) -> dict[str, dict[int, bytes]]:
    """Every non-zero storage slot of the given contracts, from Anvil's full state dump."""
    response = w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    if "result" not in response:
        raise ChainError("the node cannot dump its state (anvil_dumpState); the storage scan needs Anvil")
    state = json.loads(gzip.decompress(bytes.fromhex(str(response["result"])[2:])))
    wanted = {a.lower() for a in addresses}
    words: dict[str, dict[int, bytes]] = {}
    for address, account in state["accounts"].items():
        if address.lower() in wanted:
            words[address] = {
                int(slot, 16): int(value, 16).to_bytes(32, "big")
                for slot, value in account["storage"].items()
            }
    return words


def event_blobs(w3: Web3, addresses: Iterable[str]) -> list[tuple[str, bytes]]:
    """(where, topics + data) of every log the contracts ever emitted."""
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": list(addresses)})  # type: ignore[typeddict-item]
    return [
        (
            f"event {log['address']} block {log['blockNumber']} tx {Web3.to_hex(log['transactionHash'])}",
            b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"]),
        )
        for log in logs
    ]


def can_dump_state(w3: Web3) -> bool:
    """True if the node is Anvil, whose `anvil_dumpState` the storage scan reads (Ganache, Hardhat and py-evm
    have no such method: scan events only there, and say so)."""
    try:
        return str(w3.client_version).lower().startswith("anvil/")
    except Exception:  # a node without web3_clientVersion
        return False


def calldata_blobs(w3: Web3, addresses: Iterable[str], from_block: int = 0) -> list[tuple[str, bytes]]:
    """(where, input) of every transaction sent to the contracts."""
    return [
        (f"calldata to {tx['to']} block {tx['blockNumber']} tx {Web3.to_hex(tx['hash'])}", bytes(tx["input"]))
        for tx in transactions_to(w3, addresses, from_block)
    ]


def scan(
    w3: Web3, addresses: Iterable[str], needles: Iterable[str], *, storage: bool = True
) -> list[Finding]:
    """Every place where a needle appears in storage (with ``storage``: needs Anvil's state dump), events or
    calldata, in any of its forms."""
    addresses = list(addresses)
    patterns = [(n, form, blob) for n in needles for form, blob in forms(n).items()]
    findings: list[Finding] = []
    for address, slots in (storage_words(w3, addresses) if storage else {}).items():
        # strings longer than 31 bytes span consecutive slots: scan the concatenation per contract too
        joined = b"".join(slots[k] for k in sorted(slots))
        for needle, form, blob in patterns:
            for slot, word in slots.items():
                if blob in word:
                    findings.append(Finding(needle, form, f"storage {address} slot {hex(slot)}"))
            if len(blob) > 32 and blob in joined:
                findings.append(Finding(needle, form, f"storage {address} (across slots)"))
    for where, blob_data in event_blobs(w3, addresses) + calldata_blobs(w3, addresses):
        for needle, form, blob in patterns:
            if blob in blob_data:
                findings.append(Finding(needle, form, where))
    return findings


def summary(findings: list[Finding]) -> dict[str, Any]:
    return {"findings": len(findings), "items": [f.__dict__ for f in findings]}
