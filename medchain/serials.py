"""Serial-number Merkle trees of drug batches (DESIGN §6.7, an external format: kept exactly).

- ``batchId = keccak256(abi.encode(uint64 gtin, string lot))``
- leaves: OpenZeppelin StandardMerkleTree, leaf encoding ``["bytes32", "string"]`` = ``(batchId, serial)``,
  i.e. ``leaf = keccak256(keccak256(abi.encode(batchId, serial)))``; nodes = keccak256 of the sorted pair.

The tree itself is `medchain.merkle.StandardMerkleTree` (the project's OZ-exact implementation), so the root
and proofs equal those of ``StandardMerkleTree.of(values, ["bytes32", "string"])`` from
``@openzeppelin/merkle-tree`` and verify in DrugTrace with ``MerkleProof.verifyCalldata``.
"""

from __future__ import annotations

import math
import os
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
    "SerialSet",
    "SerialTree",
    "batch_id",
    "gtin_number",
    "multi_proof",
    "serial_inner_hash",
    "serial_leaf",
    "serial_set",
    "verify_serial",
    "whole_source",
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


def serial_inner_hash(batch: bytes, serial: str) -> bytes:
    """keccak256(abi.encode(batchId, serial)): what a shipment lists per serial (its leaf is the keccak256 of
    this, so no internal tree node can pass as a serial)."""
    return keccak(abi_encode(list(SERIAL_LEAF_ENCODING), [batch, serial]))


def verify_serial(root: bytes, batch: bytes, serial: str, proof: Sequence[bytes]) -> bool:
    """Off-chain check of a serial proof (same result as DrugTrace.verify's `genuine`)."""
    return verify_proof(root, SERIAL_LEAF_ENCODING, (batch, serial), proof)


#: below this many bits of guessing work per serial, a published tree's leaf hashes give the serials away
GUESSABLE_BITS = 64


def guessable_serials(serials: Sequence[str]) -> str | None:
    """Why a batch's serials could be listed offline from its published leaf hashes (SECURITY.md, "Published
    serial trees"), or None when they look random enough. Two signs: numbers counted up after a common prefix
    (A000001, A000002 …), or too little variety to need ``GUESSABLE_BITS`` bits of guessing."""
    if not serials:
        return None
    prefix = os.path.commonprefix(list(serials)) if len(serials) > 1 else ""
    rests = [s[len(prefix):] for s in serials]
    if all(rest and is_digits(rest) for rest in rests):
        numbers = [int(rest) for rest in rests]
        span = max(numbers) - min(numbers) + 1
        if span <= 100 * len(numbers):
            return f"the serials count up after {prefix!r} ({serials[0]}, …): anyone can list them offline"
    alphabet = {c for rest in rests for c in rest}
    shortest = min(len(rest) for rest in rests)
    bits = shortest * math.log2(max(len(alphabet), 2))
    if bits < GUESSABLE_BITS:
        return f"the serials carry about {bits:.0f} bits of randomness (under {GUESSABLE_BITS}): guessable"
    return None


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


@dataclass(frozen=True)
class SerialSet:
    """What `DrugTrace.ship` takes for a shipment (IDrugTrace.SerialSet) and the shipment's own tree.

    ``source`` is 0 for the batch tree, else the received shipment the serials come from; ``serial_hashes``
    are ordered by ascending leaf, as the contract requires and as OZ's multiproof lists its leaves."""

    source: int
    serial_hashes: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]
    tree: SerialTree

    def as_arg(self) -> tuple[int, list[bytes], list[bytes], list[bool]]:
        """The ABI tuple (source, serialHashes, proof, proofFlags)."""
        return (self.source, list(self.serial_hashes), list(self.proof), list(self.proof_flags))


def multi_proof(
    tree: StandardMerkleTree, value_indices: Sequence[int]
) -> tuple[list[bytes], list[bytes], list[bool]]:
    """OZ ``getMultiProof``: (leaves, proof, proofFlags) for the values at `value_indices`; the leaves come
    in descending tree-index order (ascending leaf hash for a sorted StandardMerkleTree)."""
    indices = sorted((tree.tree_index(i) for i in value_indices), reverse=True)
    if len(set(indices)) != len(indices):
        raise InputError("a serial is listed twice")
    queue = list(indices)
    proof: list[bytes] = []
    flags: list[bool] = []
    head = 0
    while head < len(queue) and queue[head] > 0:
        j = queue[head]
        head += 1
        sibling = j + 1 if j % 2 else j - 1
        if head < len(queue) and queue[head] == sibling:
            flags.append(True)
            head += 1
        else:
            flags.append(False)
            proof.append(tree.node(sibling))
        queue.append((j - 1) // 2)
    if not indices:  # OZ: the empty set is proven by the root itself (a whole-source shipment)
        proof.append(tree.node(0))
    return [tree.node(i) for i in indices], proof, flags


def whole_source(source_tree: SerialTree, source: int = 0) -> SerialSet:
    """The SerialSet shipping all of `source_tree` (the batch, or received shipment `source`) at a fixed cost:
    no serials, proof = [root] (OZ's multiproof of the empty set)."""
    _, proof, flags = multi_proof(source_tree.tree, [])
    return SerialSet(source, (), tuple(proof), tuple(flags), source_tree)


def serial_set(source_tree: SerialTree, serials: Iterable[str], source: int = 0) -> SerialSet:
    """The SerialSet shipping `serials` out of `source_tree` (the batch tree, or received shipment `source`);
    InputError naming a serial that is not in the source or listed twice."""
    wanted = list(serials)
    if not wanted:
        raise InputError("a shipment needs at least one serial")
    if len(set(wanted)) != len(wanted):
        duplicate = next(s for i, s in enumerate(wanted) if s in wanted[:i])
        raise InputError(f"serial {duplicate!r} is listed twice")
    batch = source_tree.batch_id
    positions: list[int] = []
    for serial in wanted:
        try:
            positions.append(source_tree.tree.index_of((batch, serial)))
        except MerkleError:
            where = "the batch" if source == 0 else f"shipment {source}"
            raise InputError(
                f"serial {serial!r} is not in {where}: ship only serials you hold from it"
            ) from None
    leaves, proof, flags = multi_proof(source_tree.tree, positions)
    inner = {keccak(h): h for h in (serial_inner_hash(batch, s) for s in wanted)}
    return SerialSet(
        source,
        tuple(inner[leaf] for leaf in leaves),
        tuple(proof),
        tuple(flags),
        SerialTree.of(batch, wanted),
    )
