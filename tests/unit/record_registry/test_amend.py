"""RecordRegistry.amend: lineage (same hospital, previous not yet superseded), nothing overwritten."""

from __future__ import annotations

from typing import Any

from helpers import add_operator
from record_helpers import (
    HOSPITAL_ROLE,
    LAB,
    ORIGIN_BATCH,
    ORIGIN_SINGLE,
    URI,
    ZERO32,
    hexproof,
    make_rec,
    reverts,
    tree_of,
)


def _anchored(records: Any, hospital: Any, rec: Any) -> Any:
    return records.anchor(*rec.anchor_args, {"from": hospital})


def test_amend_links_previous_to_new(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    first = _anchored(records, hospital, v1)
    tx = records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    assert records.supersededBy(v1.leaf) == v2.leaf_hex
    assert records.supersededBy(v2.leaf) == "0x" + "00" * 32
    assert tuple(records.getRecord(v1.leaf)) == (hospital, first.timestamp, ORIGIN_SINGLE)
    assert tuple(records.getRecord(v2.leaf)) == (hospital, tx.timestamp, ORIGIN_SINGLE)
    assert tx.return_value == v2.leaf_hex


def test_amend_emits_anchored_and_amended(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    tx = records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    assert dict(tx.events["RecordAnchored"]) == v2.anchored_event
    amended = tx.events["RecordAmended"]
    assert (amended["previousLeaf"], amended["leaf"], amended["hospital"]) == (
        v1.leaf_hex,
        v2.leaf_hex,
        hospital,
    )


def test_amend_chain_of_versions(records: Any, hospital: Any, patient: Any) -> None:
    versions = [make_rec(f"v{i}", patient) for i in range(4)]
    _anchored(records, hospital, versions[0])
    for prev, new in zip(versions, versions[1:], strict=False):
        records.amend(prev.leaf, *new.anchor_args, {"from": hospital})
    for prev, new in zip(versions, versions[1:], strict=False):
        assert records.supersededBy(prev.leaf) == new.leaf_hex


def test_amend_may_change_class(records: Any, hospital: Any, patient: Any) -> None:
    """The new version's class is in its leaf only: recordLeaf of the new values is the stored key."""
    v1, v2 = make_rec("v1", patient, LAB), make_rec("v2", patient, 0)
    _anchored(records, hospital, v1)
    records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    assert records.recordLeaf(*v2.args) == records.supersededBy(v1.leaf) == v2.leaf_hex
    assert records.getRecord(v2.leaf)[0] == hospital


def test_amend_by_operator_key_of_the_same_hospital(
    records: Any, consortium: Any, hospital: Any, operator: Any, patient: Any
) -> None:
    add_operator(consortium, hospital, operator)
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    records.amend(v1.leaf, *v2.anchor_args, {"from": operator})
    assert records.getRecord(v2.leaf)[0] == hospital


def test_amend_of_another_hospitals_record_reverts(
    records: Any, hospital: Any, hospital_b: Any, patient: Any
) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    with reverts("RecordUnauthorizedHospital", v1.leaf, hospital, hospital_b):
        records.amend(v1.leaf, *v2.anchor_args, {"from": hospital_b})


def test_amend_of_superseded_record_reverts(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2, v3 = make_rec("v1", patient), make_rec("v2", patient), make_rec("v3", patient)
    _anchored(records, hospital, v1)
    records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    with reverts("RecordAlreadySuperseded", v1.leaf, v2.leaf):
        records.amend(v1.leaf, *v3.anchor_args, {"from": hospital})


def test_amend_of_unknown_record_reverts(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    with reverts("RecordNonexistent", v1.leaf):
        records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})


def test_amend_to_an_existing_record_reverts(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    tx = _anchored(records, hospital, v2)
    with reverts("RecordAlreadyAnchored", v2.leaf, hospital, tx.timestamp):
        records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    with reverts("RecordAlreadyAnchored"):
        records.amend(v1.leaf, *v1.anchor_args, {"from": hospital})
    assert records.supersededBy(v1.leaf) == "0x" + "00" * 32


def test_amend_invalid_new_record_reverts(records: Any, hospital: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    with reverts("RecordInvalidHash", v2.record_hash, ZERO32):
        records.amend(v1.leaf, v2.record_hash, ZERO32, {"from": hospital})
    with reverts("RecordInvalidHash", ZERO32, v2.leaf):
        records.amend(v1.leaf, ZERO32, v2.leaf, {"from": hospital})
    assert records.supersededBy(v1.leaf) == "0x" + "00" * 32


def test_amend_by_stranger_reverts(records: Any, hospital: Any, stranger: Any, patient: Any) -> None:
    v1, v2 = make_rec("v1", patient), make_rec("v2", patient)
    _anchored(records, hospital, v1)
    with reverts("RecordUnauthorized", stranger, HOSPITAL_ROLE):
        records.amend(v1.leaf, *v2.anchor_args, {"from": stranger})


def test_amend_of_batch_record_needs_materialise_first(records: Any, hospital: Any, patient: Any) -> None:
    recs = [make_rec(f"b{i}", patient) for i in range(4)]
    tree = tree_of(recs)
    records.anchorBatch(tree.root, 4, URI, {"from": hospital})
    v2 = make_rec("b1-v2", patient)
    with reverts("RecordNonexistent", recs[1].leaf):
        records.amend(recs[1].leaf, *v2.anchor_args, {"from": hospital})
    records.materialise(tree.root, *recs[1].args, hexproof(tree.get_proof(1)), {"from": hospital})
    records.amend(recs[1].leaf, *v2.anchor_args, {"from": hospital})
    assert records.supersededBy(recs[1].leaf) == v2.leaf_hex
    assert records.getRecord(recs[1].leaf)[2] == ORIGIN_BATCH
