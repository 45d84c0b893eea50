"""RecordRegistry.materialise: anyone turns a proven batch record into a record of the batch's hospital."""

from __future__ import annotations

from typing import Any

import pytest
from record_helpers import ORIGIN_BATCH, URI, ZERO32, hexproof, random_recs, reverts, tree_of


@pytest.fixture
def batch(records: Any, hospital: Any, patient: Any) -> tuple:
    recs = random_recs(9, patient)
    tree = tree_of(recs)
    tx = records.anchorBatch(tree.root, len(recs), URI, {"from": hospital})
    return recs, tree, tx.timestamp


def test_materialise_by_anyone_writes_the_batch_hospital(
    records: Any, batch: tuple, hospital: Any, stranger: Any, chain: Any
) -> None:
    recs, tree, anchored_at = batch
    chain.sleep(100)
    rec = recs[4]
    tx = records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(4)), {"from": stranger})
    assert tuple(records.getRecord(rec.leaf)) == (hospital, anchored_at, ORIGIN_BATCH)
    assert tx.return_value == rec.leaf_hex


def test_materialise_emits_events(records: Any, batch: tuple, hospital: Any, stranger: Any) -> None:
    recs, tree, _ = batch
    rec = recs[0]
    tx = records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(0)), {"from": stranger})
    assert dict(tx.events["RecordAnchored"]) == rec.anchored_event
    mat = tx.events["BatchRecordMaterialised"]
    assert (mat["root"], mat["leaf"], mat["by"]) == ("0x" + tree.root.hex(), rec.leaf_hex, stranger)


def test_materialise_twice_reverts_with_the_existing_record(
    records: Any, batch: tuple, hospital: Any, stranger: Any
) -> None:
    recs, tree, anchored_at = batch
    rec = recs[2]
    proof = hexproof(tree.get_proof(2))
    records.materialise(tree.root, *rec.args, proof, {"from": stranger})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, anchored_at):
        records.materialise(tree.root, *rec.args, proof, {"from": hospital})


def test_materialise_of_singly_anchored_record_reverts(
    records: Any, batch: tuple, hospital_b: Any, stranger: Any
) -> None:
    recs, tree, _ = batch
    rec = recs[3]
    tx = records.anchor(*rec.anchor_args, {"from": hospital_b})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital_b, tx.timestamp):
        records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(3)), {"from": stranger})


def test_anchor_after_materialise_reverts(records: Any, batch: tuple, hospital: Any, stranger: Any) -> None:
    recs, tree, anchored_at = batch
    rec = recs[5]
    records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(5)), {"from": stranger})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, anchored_at):
        records.anchor(*rec.anchor_args, {"from": hospital})


def test_materialise_with_bad_proof_reverts(records: Any, batch: tuple, stranger: Any) -> None:
    recs, tree, _ = batch
    rec = recs[1]
    with reverts("RecordInvalidProof", tree.root, rec.leaf):
        records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(2)), {"from": stranger})


def test_materialise_from_unknown_batch_reverts(records: Any, patient: Any, stranger: Any) -> None:
    recs = random_recs(3, patient)
    tree = tree_of(recs)
    with reverts("RecordBatchNonexistent", tree.root):
        records.materialise(tree.root, *recs[0].args, hexproof(tree.get_proof(0)), {"from": stranger})


def test_materialise_from_wrong_batch_reverts(
    records: Any, batch: tuple, hospital: Any, patient: Any, stranger: Any
) -> None:
    recs, tree, _ = batch
    other = tree_of(random_recs(4, patient))
    records.anchorBatch(other.root, 4, URI, {"from": hospital})
    with reverts("RecordInvalidProof", other.root, recs[0].leaf):
        records.materialise(other.root, *recs[0].args, hexproof(tree.get_proof(0)), {"from": stranger})


def test_materialise_invalid_values_reverts(records: Any, hospital: Any, stranger: Any) -> None:
    """A tree may hold values the registry refuses (class 11): proven, yet not materialisable."""
    from medchain.merkle import StandardMerkleTree

    values = [(b"\x01" * 32, b"\x02" * 32, 11), (b"\x03" * 32, b"\x04" * 32, 1)]
    tree = StandardMerkleTree.of(values)
    records.anchorBatch(tree.root, 2, URI, {"from": hospital})
    with reverts("RecordInvalidDataClass", 11):
        records.materialise(tree.root, *values[0], hexproof(tree.get_proof(0)), {"from": stranger})


def test_materialise_checks_the_class_before_the_proof(records: Any, batch: tuple, stranger: Any) -> None:
    recs, tree, _ = batch
    rec = recs[1]
    with reverts("RecordInvalidDataClass", 11):
        records.materialise(
            tree.root, rec.record_hash, rec.commitment, 11, hexproof(tree.get_proof(1)), {"from": stranger}
        )


def test_materialise_zero_commitment_reverts(records: Any, hospital: Any, stranger: Any) -> None:
    """A tree holding a zero commitment is proven, yet refused: RecordInvalidHash(recordHash, 0)."""
    from medchain.merkle import StandardMerkleTree

    values = [(b"\x01" * 32, ZERO32, 3), (b"\x03" * 32, b"\x04" * 32, 1)]
    tree = StandardMerkleTree.of(values)
    records.anchorBatch(tree.root, 2, URI, {"from": hospital})
    assert records.verifyBatchRecord(tree.root, *values[0], hexproof(tree.get_proof(0)))
    with reverts("RecordInvalidHash", values[0][0], ZERO32):
        records.materialise(tree.root, *values[0], hexproof(tree.get_proof(0)), {"from": stranger})


def test_materialise_zero_record_hash_reverts(records: Any, hospital: Any, stranger: Any) -> None:
    from medchain.merkle import StandardMerkleTree

    values = [(ZERO32, b"\x02" * 32, 3), (b"\x03" * 32, b"\x04" * 32, 1)]
    tree = StandardMerkleTree.of(values)
    records.anchorBatch(tree.root, 2, URI, {"from": hospital})
    leaf = records.recordLeaf(*values[0])
    with reverts("RecordInvalidHash", ZERO32, bytes(leaf)):
        records.materialise(tree.root, *values[0], hexproof(tree.get_proof(0)), {"from": stranger})
