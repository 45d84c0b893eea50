"""Typed handles on the deployed suite: one web3 Contract per part, loaded from a manifest or addresses."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from web3 import Web3
from web3.contract import Contract

from medchain.abi import load_abi
from medchain.errors import ConfigError


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """A web3 Contract for `name`'s ABI at `address` (checked to hold code)."""
    if not Web3.is_address(address):
        raise ConfigError(f"{name}: {address!r} is not an address")
    checksum = Web3.to_checksum_address(address)
    if not w3.eth.get_code(checksum):
        raise ConfigError(f"{name}: no contract code at {checksum} on chain {w3.eth.chain_id}")
    return w3.eth.contract(address=checksum, abi=load_abi(name))


#: Suite field -> contract name
PARTS: dict[str, str] = {
    "consortium": "Consortium",
    "consent": "ConsentRegistry",
    "records": "RecordRegistry",
    "claims": "ClaimsManager",
    "drugs": "DrugTrace",
    "token": "SettlementToken",
}


@dataclass
class Suite:
    """The deployed contracts on one chain. A part is None when it is not deployed there."""

    w3: Web3
    consortium: Contract
    consent: Contract | None = None
    records: Contract | None = None
    claims: Contract | None = None
    drugs: Contract | None = None
    token: Contract | None = None

    @classmethod
    def from_addresses(cls, w3: Web3, addresses: dict[str, str]) -> Suite:
        """Build from {contract name or field: address}."""
        by_field: dict[str, Any] = {}
        for key, address in addresses.items():
            field = key if key in PARTS else next((f for f, n in PARTS.items() if n == key), None)
            if field is None:
                continue
            by_field[field] = contract_at(w3, PARTS[field], address)
        if "consortium" not in by_field:
            raise ConfigError("the suite has no Consortium address")
        return cls(w3=w3, **by_field)

    @classmethod
    def load(cls, w3: Web3, manifest: dict[str, Any]) -> Suite:
        """Build from a deployment manifest (medchain.deploy writes them)."""
        contracts = manifest.get("contracts", {})
        return cls.from_addresses(w3, {name: entry["address"] for name, entry in contracts.items()})

    def require(self, field: str) -> Contract:
        """The part named `field`, or a ConfigError saying it is not deployed."""
        contract = getattr(self, field, None)
        if contract is None:
            raise ConfigError(f"{PARTS.get(field, field)} is not deployed on chain {self.w3.eth.chain_id}")
        return contract

    def addresses(self) -> dict[str, str]:
        return {
            PARTS[f.name]: getattr(self, f.name).address
            for f in fields(self)
            if f.name in PARTS and getattr(self, f.name) is not None
        }
