"""RecordRegistry test helpers: record values, leaves and commitments, computed with medchain."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from medchain.hashing import patient_commitment, record_leaf
from medchain.merkle import StandardMerkleTree

# DESIGN §6.2
SUMMARY, OUTPATIENT, INPATIENT, LAB, IMAGING = 0, 1, 2, 3, 4
GENOMIC, MENTAL_HEALTH, INFECTIOUS_DISEASE = 7, 8, 10
TREATMENT, CLAIM, RESEARCH, EMERGENCY, PUBLIC_HEALTH = 1, 2, 3, 4, 5

# IRecordRegistry.RecordOrigin
ORIGIN_NONE, ORIGIN_SINGLE, ORIGIN_BATCH = 0, 1, 2

ZERO32 = b"\x00" * 32
HOSPITAL_ROLE = keccak(text="HOSPITAL")
URI = "https://fhir.hospital-a.example/medchain/batches/0001"


def h32(label: str) -> bytes:
    """A deterministic 32-byte record hash for a test label."""
    import hashlib

    return hashlib.sha256(label.encode()).digest()


@dataclass(frozen=True)
class Rec:
    """A record's on-chain values plus the commitment opening the holder keeps."""

    record_hash: bytes
    patient: str
    salt: bytes
    data_class: int

    @property
    def commitment(self) -> bytes:
        return patient_commitment(self.patient, self.salt)

    @property
    def leaf(self) -> bytes:
        return record_leaf(self.record_hash, self.commitment, self.data_class)

    @property
    def leaf_hex(self) -> str:
        return "0x" + self.leaf.hex()

    @property
    def args(self) -> tuple[bytes, bytes, int]:
        """(recordHash, patientCommitment, dataClass): the leaf's values, as materialise, verifyBatchRecord,
        recordLeaf and the Merkle tree take them."""
        return (self.record_hash, self.commitment, self.data_class)

    @property
    def anchored_event(self) -> dict[str, str]:
        """RecordAnchored as brownie decodes it: the leaf and the record hash, nothing else."""
        return {"leaf": self.leaf_hex, "recordHash": "0x" + self.record_hash.hex()}

    @property
    def anchor_args(self) -> tuple[bytes, bytes]:
        """(recordHash, leaf) as anchor takes them (DESIGN §6.3 v2: nothing else is published)."""
        return (self.record_hash, self.leaf)

    @property
    def opening(self) -> tuple[bytes, bytes, int]:
        """IRecordRegistry.Opening (recordHash, salt, dataClass) as logAccessMany takes it."""
        return (self.record_hash, self.salt, self.data_class)


def make_rec(label: str, patient: Any, data_class: int = LAB, salt: bytes | None = None) -> Rec:
    """A record with its own salt (DESIGN §6.3 v2: one salt per record) unless `salt` is given."""
    return Rec(
        h32(label), str(patient), salt if salt is not None else h32(f"salt:{patient}:{label}"), data_class
    )


def random_recs(n: int, patient: Any) -> list[Rec]:
    """`n` records of `patient`, classes 0..10 in turn, each with its own random salt."""
    return [Rec(os.urandom(32), str(patient), os.urandom(32), i % 11) for i in range(n)]


def tree_of(recs: list[Rec]) -> StandardMerkleTree:
    return StandardMerkleTree.of([r.args for r in recs])


def hexproof(proof: list[bytes]) -> list[str]:
    return ["0x" + p.hex() for p in proof]


def record_tuple(records: Any, rec: Rec) -> tuple:
    """getRecord(leaf) as a plain tuple (hospital, anchoredAt, origin): the class is not stored."""
    return tuple(records.getRecord(rec.leaf))


def reverts(error: str, *args: Any) -> Any:
    """`helpers.reverts_with` for this contract's errors: brownie 1.22 prints bytes32 arguments as Python
    bytes reprs (``b'\\x12...'``), so bytes arguments are passed in that form."""
    from helpers import reverts_with

    return reverts_with(error, *(repr(bytes(a)) if isinstance(a, bytes | bytearray) else a for a in args))
