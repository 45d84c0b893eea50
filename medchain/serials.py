"""Serial-number Merkle trees of drug batches (DESIGN §6.7, an external format: kept exactly).

- ``batchId = keccak256(abi.encode(uint64 gtin, string lot))``
- leaves: OpenZeppelin StandardMerkleTree, leaf encoding ``["bytes32", "string"]`` = ``(batchId, serial)``,
  i.e. ``leaf = keccak256(keccak256(abi.encode(batchId, serial)))``; nodes = keccak256 of the sorted pair.

The tree itself is `medchain.merkle.StandardMerkleTree` (the project's OZ-exact implementation), so the root
and proofs equal those of ``StandardMerkleTree.of(values, ["bytes32", "string"])`` from
``@openzeppelin/merkle-tree`` and verify in DrugTrace with ``MerkleProof.verifyCalldata``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from medchain.errors import InputError
from medchain.gs1 import DrugCode
from medchain.merkle import MerkleError, StandardMerkleTree, leaf_hash, verify_proof
from medchain.text import is_digits

__all__ = [
    "SERIAL_LEAF_ENCODING",
    "SerialTree",
    "batch_id",
    "gtin_number",
    "serial_leaf",
    "verify_serial",
]

SERIAL_LEAF_ENCODING: tuple[str, str] = ("bytes32", "string")
"""DESIGN §6.7 leaf encoding: (batchId, serial)."""


def gtin_number(gtin: str | int) -> int:
    """The on-chain form of a GTIN (a number). GTIN-8/12/13 are zero-padded to GTIN-14; the check digit is
    validated here, off chain."""
    text = str(gtin).strip()
    if isinstance(gtin, int) and not isinstance(gtin, bool) and 0 < gtin < 10**14:
        text = text.zfill(14)
    if not is_digits(text) or len(text) not in (8, 12, 13, 14):
        raise InputError(f"GTIN must be 8, 12, 13 or 14 digits, got {str(gtin)!r}")
    text = text.zfill(14)
    DrugCode(gtin=text)  # check digit
    return int(text)


def gtin14(gtin: int | str) -> str:
    """The 14-digit text form of an on-chain GTIN number."""
    return str(int(gtin)).zfill(14)


def batch_id(gtin: str | int, lot: str) -> bytes:
    """keccak256(abi.encode(uint64 gtin, string lot)) — the DrugTrace batch id."""
    return keccak(abi_encode(["uint64", "string"], [gtin_number(gtin), lot]))


def serial_leaf(batch: bytes, serial: str) -> bytes:
    """The serial's StandardMerkleTree leaf (what DrugTrace.serialLeaf returns)."""
    return leaf_hash(SERIAL_LEAF_ENCODING, (batch, serial))


def verify_serial(root: bytes, batch: bytes, serial: str, proof: Sequence[bytes]) -> bool:
    """Off-chain check of a serial proof (same result as DrugTrace.verify's `genuine`)."""
    return verify_proof(root, SERIAL_LEAF_ENCODING, (batch, serial), proof)


@dataclass(frozen=True)
class SerialTree:
    """The serial tree of one batch."""

    batch_id: bytes
    serials: tuple[str, ...]
    tree: StandardMerkleTree

    @classmethod
    def build(cls, gtin: str | int, lot: str, serials: Iterable[str]) -> SerialTree:
        """Validates gtin/lot/serials (GS1 check digit, 1-20 CSET 82 characters, no duplicates), builds."""
        values = tuple(serials)
        if not values:
            raise InputError("a batch needs at least one serial")
        code = DrugCode(gtin=gtin14(gtin_number(gtin)), lot=lot)
        for serial in values:
            DrugCode(gtin=code.gtin, serial=serial)
        if len(set(values)) != len(values):
            seen: set[str] = set()
            duplicate = next(s for s in values if s in seen or seen.add(s))  # type: ignore[func-returns-value]
            raise InputError(f"serial {duplicate!r} appears twice in the batch")
        return cls.of(batch_id(code.gtin, lot), values)

    @classmethod
    def of(cls, batch: bytes, serials: Sequence[str]) -> SerialTree:
        """The tree over (batch, serial) for already validated serials."""
        values = [(batch, serial) for serial in serials]
        return cls(batch, tuple(serials), StandardMerkleTree.of(values, SERIAL_LEAF_ENCODING))

    @classmethod
    def load(cls, dump: dict[str, Any]) -> SerialTree:
        """A tree from an OZ ``standard-v1`` dump (e.g. written by `dump` or ``@openzeppelin/merkle-tree``),
        fully validated; every value must be (batchId, serial) of one batch."""
        try:
            tree = StandardMerkleTree.load(dump)
        except (MerkleError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a valid serial tree dump: {exc}") from None
        if list(tree.leaf_encoding) != list(SERIAL_LEAF_ENCODING):
            raise InputError(
                f"serial trees use leaf encoding {list(SERIAL_LEAF_ENCODING)}, got {list(tree.leaf_encoding)}"
            )
        values = [tree.at(i) for i in range(len(tree))]
        batches = {bytes(v[0]) for v in values if v is not None}
        if len(batches) != 1:
            raise InputError(f"a serial tree holds one batch, this one holds {len(batches)}")
        return cls(batches.pop(), tuple(str(v[1]) for v in values if v is not None), tree)

    def dump(self) -> dict[str, Any]:
        """OZ ``standard-v1`` JSON: loadable by ``StandardMerkleTree.load`` in JS and Python."""
        return self.tree.dump()

    @property
    def root(self) -> bytes:
        return self.tree.root

    def __len__(self) -> int:
        return len(self.serials)

    def proof(self, serial: str) -> list[bytes]:
        """The proof of `serial` (InputError if it is not in the batch)."""
        try:
            return self.tree.get_proof((self.batch_id, serial))
        except MerkleError:
            raise InputError(f"serial {serial!r} is not in this batch") from None

    def proofs(self) -> list[tuple[str, list[bytes]]]:
        """Every (serial, proof), in input order, without re-hashing the leaves."""
        return [(serial, self.tree.get_proof(i)) for i, serial in enumerate(self.serials)]
