"""RecordRegistry.anchorBatch: a Merkle root of any size, HOSPITAL only, first write wins."""

from __future__ import annotations

from typing import Any

from helpers import add_operator
from record_helpers import HOSPITAL_ROLE, URI, ZERO32, make_rec, random_recs, reverts, tree_of


def test_anchor_batch_stores_the_batch(records: Any, hospital: Any, patient: Any) -> None:
    tree = tree_of(random_recs(10, patient))
    tx = records.anchorBatch(tree.root, 10, URI, {"from": hospital})
    assert tuple(records.getBatch(tree.root)) == (hospital, tx.timestamp, 10)
    assert tx.return_value == "0x" + tree.root.hex()


def test_anchor_batch_emits_batch_anchored(records: Any, hospital: Any, patient: Any) -> None:
    tree = tree_of(random_recs(3, patient))
    tx = records.anchorBatch(tree.root, 3, URI, {"from": hospital})
    assert len(tx.events) == 1
    assert dict(tx.events["BatchAnchored"]) == {"root": "0x" + tree.root.hex(), "uri": URI}


def test_anchor_batch_by_operator_records_the_member(
    records: Any, consortium: Any, hospital: Any, operator: Any, patient: Any
) -> None:
    add_operator(consortium, hospital, operator)
    tree = tree_of(random_recs(2, patient))
    records.anchorBatch(tree.root, 2, "", {"from": operator})
    assert records.getBatch(tree.root)[0] == hospital


def test_anchor_batch_twice_reverts(records: Any, hospital: Any, hospital_b: Any, patient: Any) -> None:
    tree = tree_of(random_recs(4, patient))
    tx = records.anchorBatch(tree.root, 4, URI, {"from": hospital})
    for who in (hospital, hospital_b):
        with reverts("RecordBatchAlreadyAnchored", tree.root, hospital, tx.timestamp):
            records.anchorBatch(tree.root, 4, URI, {"from": who})


def test_anchor_batch_zero_root_or_count_reverts(records: Any, hospital: Any, patient: Any) -> None:
    tree = tree_of(random_recs(2, patient))
    with reverts("RecordInvalidBatch", ZERO32, 2):
        records.anchorBatch(ZERO32, 2, URI, {"from": hospital})
    with reverts("RecordInvalidBatch", tree.root, 0):
        records.anchorBatch(tree.root, 0, URI, {"from": hospital})


def test_anchor_batch_by_non_hospital_reverts(
    records: Any, stranger: Any, insurer: Any, patient: Any
) -> None:
    tree = tree_of(random_recs(2, patient))
    for who in (stranger, insurer):
        with reverts("RecordUnauthorized", who, HOSPITAL_ROLE):
            records.anchorBatch(tree.root, 2, URI, {"from": who})


def test_single_record_batch_root_is_its_leaf(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("only", patient)
    tree = tree_of([rec])
    assert tree.root == rec.leaf
    records.anchorBatch(tree.root, 1, URI, {"from": hospital})
    assert records.verifyBatchRecord(tree.root, *rec.args, [])
