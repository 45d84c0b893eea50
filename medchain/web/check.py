"""The record check page's chain side: where a record hash is anchored (`medchain.records.find_anchors`)
and an evidence package checked against the chain (`medchain.records.verify_evidence`), with the anchoring
hospital named from the Consortium. Read-only; the page sends only hashes and evidence packages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3

from medchain import consortium, records
from medchain.contracts import Suite
from medchain.errors import ConfigError, InputError
from medchain.hashing import parse_hash

__all__ = ["RecordCheck"]


@dataclass
class RecordCheck:
    w3: Web3
    suite: Suite
    from_block: int = 0

    def _name(self, address: str | None) -> str:
        if not address or int(address, 16) == 0:
            return ""
        return consortium.get_member(self.suite.consortium, address).name

    def lookup(self, record_hash: str) -> dict[str, Any]:
        """Where `record_hash` (0x hex) is anchored: `records.find_anchors`, each anchor with its hospital's
        name. An empty list: not anchored singly (a batch record is proven by its evidence package)."""
        value = parse_hash(record_hash)
        registry = self.suite.records
        if registry is None:
            raise ConfigError("RecordRegistry is not deployed on this chain (no address in the manifest)")
        found = records.find_anchors(self.w3, registry, value, from_block=self.from_block)
        anchors = [
            {
                "leaf": Web3.to_hex(a["leaf"]),
                "hospital": a["hospital"],
                "hospitalName": self._name(a["hospital"]),
                "anchoredAt": a["anchoredAt"],
                "origin": a["origin"],
                "txHash": a["txHash"],
                "blockNumber": a["blockNumber"],
                "supersededBy": Web3.to_hex(a["supersededBy"]) if a["supersededBy"] else None,
            }
            for a in found
        ]
        return {"recordHash": Web3.to_hex(value), "anchors": anchors}

    def evidence(self, document: dict[str, Any]) -> dict[str, Any]:
        """`records.verify_evidence` on a parsed evidence package, plus the hospital's member name."""
        result = records.verify_evidence(self.w3, document)
        anchor = document.get("anchor")
        hospital = anchor.get("hospital") if isinstance(anchor, dict) else None
        if not isinstance(hospital, str) or not Web3.is_address(hospital):
            raise InputError("malformed evidence package: anchor.hospital is not an address")
        return result | {"hospitalName": self._name(hospital)}
