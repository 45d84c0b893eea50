"""RecordRegistry.verifyBatchRecord: OZ proofs from medchain.merkle; tampered, wrong batch, unknown root."""

from __future__ import annotations

from typing import Any

import pytest
from record_helpers import URI, hexproof, make_rec, random_recs, tree_of


@pytest.fixture
def batch(records: Any, hospital: Any, patient: Any) -> tuple:
    recs = random_recs(37, patient)
    tree = tree_of(recs)
    records.anchorBatch(tree.root, len(recs), URI, {"from": hospital})
    return recs, tree


def test_every_proof_verifies(records: Any, batch: tuple) -> None:
    recs, tree = batch
    for i, rec in enumerate(recs):
        assert records.verifyBatchRecord(tree.root, *rec.args, hexproof(tree.get_proof(i)))


def test_proof_by_value_verifies(records: Any, batch: tuple) -> None:
    recs, tree = batch
    assert records.verifyBatchRecord(tree.root, *recs[5].args, hexproof(tree.get_proof(recs[5].args)))


def test_tampered_proof_fails(records: Any, batch: tuple) -> None:
    recs, tree = batch
    proof = tree.get_proof(3)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not records.verifyBatchRecord(tree.root, *recs[3].args, hexproof(bad))
    assert not records.verifyBatchRecord(tree.root, *recs[3].args, hexproof(proof[:-1]))
    assert not records.verifyBatchRecord(tree.root, *recs[3].args, hexproof(proof + [proof[0]]))


def test_tampered_values_fail(records: Any, batch: tuple, patient2: Any) -> None:
    recs, tree = batch
    rec = recs[7]
    proof = hexproof(tree.get_proof(7))
    other_commitment = make_rec("x", patient2).commitment
    assert not records.verifyBatchRecord(tree.root, b"\x01" * 32, rec.commitment, rec.data_class, proof)
    assert not records.verifyBatchRecord(tree.root, rec.record_hash, other_commitment, rec.data_class, proof)
    assert not records.verifyBatchRecord(
        tree.root, rec.record_hash, rec.commitment, (rec.data_class + 1) % 11, proof
    )


def test_proof_of_other_record_fails(records: Any, batch: tuple) -> None:
    recs, tree = batch
    assert not records.verifyBatchRecord(tree.root, *recs[1].args, hexproof(tree.get_proof(2)))


def test_wrong_batch_fails(records: Any, hospital: Any, batch: tuple, patient: Any) -> None:
    recs, tree = batch
    other = tree_of(random_recs(8, patient))
    records.anchorBatch(other.root, 8, URI, {"from": hospital})
    assert not records.verifyBatchRecord(other.root, *recs[0].args, hexproof(tree.get_proof(0)))


def test_unknown_root_is_false_even_with_a_correct_proof(records: Any, patient: Any) -> None:
    recs = random_recs(5, patient)
    tree = tree_of(recs)  # never anchored
    assert not records.verifyBatchRecord(tree.root, *recs[0].args, hexproof(tree.get_proof(0)))


def test_internal_node_is_not_a_record(records: Any, batch: tuple) -> None:
    """Double-hashed leaves: an internal node presented as a leaf cannot pass (no 64-byte-leaf confusion)."""
    recs, tree = batch
    node = tree.node(1)
    left, right = tree.node(3), tree.node(4)
    assert not records.verifyBatchRecord(tree.root, left, right, 0, hexproof([tree.node(2)]))
    assert node != left


def test_depth_20_proof_verifies(records: Any, hospital: Any, patient: Any) -> None:
    """A leaf 20 levels deep (siblings = the other subtrees of a 2^20-leaf tree) verifies on chain."""
    import os

    from medchain.merkle import process_proof

    rec = random_recs(1, patient)[0]
    proof = [os.urandom(32) for _ in range(20)]
    root = process_proof(rec.leaf, proof)
    records.anchorBatch(root, 1 << 20, URI, {"from": hospital})
    assert records.verifyBatchRecord(root, *rec.args, hexproof(proof))
    assert not records.verifyBatchRecord(root, *rec.args, hexproof(proof[:19]))
