"""RecordRegistry.anchorMany: several records, one role check, all or nothing."""

from __future__ import annotations

from typing import Any

from record_helpers import HOSPITAL_ROLE, ORIGIN_SINGLE, ZERO32, make_rec, reverts


def _cols(recs: list) -> tuple[list, list]:
    return [r.record_hash for r in recs], [r.leaf for r in recs]


def test_anchor_many_stores_every_record(records: Any, hospital: Any, patient: Any, patient2: Any) -> None:
    recs = [make_rec(f"r{i}", patient if i % 2 else patient2, i % 11) for i in range(5)]
    tx = records.anchorMany(*_cols(recs), {"from": hospital})
    for rec in recs:
        assert tuple(records.getRecord(rec.leaf)) == (hospital, tx.timestamp, ORIGIN_SINGLE)
    assert list(tx.return_value) == [r.leaf_hex for r in recs]


def test_anchor_many_emits_one_event_per_record(records: Any, hospital: Any, patient: Any) -> None:
    recs = [make_rec(f"r{i}", patient, i) for i in range(3)]
    tx = records.anchorMany(*_cols(recs), {"from": hospital})
    events = tx.events["RecordAnchored"]
    assert len(events) == 3
    assert [dict(e) for e in events] == [
        {"leaf": r.leaf_hex, "recordHash": "0x" + r.record_hash.hex()} for r in recs
    ]


def test_anchor_many_length_mismatch_reverts(records: Any, hospital: Any, patient: Any) -> None:
    hashes, leaves = _cols([make_rec(f"r{i}", patient) for i in range(3)])
    with reverts("RecordInvalidArrays", 3, 2):
        records.anchorMany(hashes, leaves[:2], {"from": hospital})
    with reverts("RecordInvalidArrays", 3, 4):
        records.anchorMany(hashes, leaves + [b"\x01" * 32], {"from": hospital})
    with reverts("RecordInvalidArrays", 2, 3):
        records.anchorMany(hashes[:2], leaves, {"from": hospital})
    for leaf in leaves:
        assert records.getRecord(leaf)[0] == "0x0000000000000000000000000000000000000000"


def test_anchor_many_empty_reverts(records: Any, hospital: Any, patient: Any) -> None:
    with reverts("RecordInvalidArrays", 0, 0):
        records.anchorMany([], [], {"from": hospital})
    with reverts("RecordInvalidArrays", 0, 1):
        records.anchorMany([], [make_rec("r", patient).leaf], {"from": hospital})


def test_anchor_many_by_stranger_reverts(records: Any, stranger: Any, patient: Any) -> None:
    with reverts("RecordUnauthorized", stranger, HOSPITAL_ROLE):
        records.anchorMany(*_cols([make_rec("r", patient)]), {"from": stranger})


def test_anchor_many_with_an_anchored_record_reverts_as_a_whole(
    records: Any, hospital: Any, patient: Any
) -> None:
    recs = [make_rec(f"r{i}", patient) for i in range(3)]
    tx = records.anchor(*recs[1].anchor_args, {"from": hospital})
    with reverts("RecordAlreadyAnchored", recs[1].leaf, hospital, tx.timestamp):
        records.anchorMany(*_cols(recs), {"from": hospital})
    assert records.getRecord(recs[0].leaf)[0] == "0x0000000000000000000000000000000000000000"


def test_anchor_many_with_a_duplicate_inside_reverts(
    records: Any, hospital: Any, patient: Any, chain: Any
) -> None:
    rec = make_rec("dup", patient)
    with reverts("RecordAlreadyAnchored"):
        records.anchorMany(*_cols([rec, rec]), {"from": hospital})


def test_anchor_many_with_an_invalid_record_reverts(records: Any, hospital: Any, patient: Any) -> None:
    hashes, leaves = _cols([make_rec(f"r{i}", patient) for i in range(3)])
    with reverts("RecordInvalidHash", ZERO32, leaves[2]):
        records.anchorMany(hashes[:2] + [ZERO32], leaves, {"from": hospital})
    with reverts("RecordInvalidHash", hashes[1], ZERO32):
        records.anchorMany(hashes, [leaves[0], ZERO32, leaves[2]], {"from": hospital})
    assert records.getRecord(leaves[0])[0] == "0x0000000000000000000000000000000000000000"


def test_anchor_many_by_other_roles_and_suspended_hospital_reverts(
    records: Any,
    consortium: Any,
    council: Any,
    insurer: Any,
    auditor: Any,
    pharmacy: Any,
    patient: Any,
    hospital_b: Any,
) -> None:
    from helpers import SUSPEND

    cols = _cols([make_rec("r", patient)])
    for account in (insurer, auditor, council, pharmacy):
        with reverts("RecordUnauthorized", account, HOSPITAL_ROLE):
            records.anchorMany(*cols, {"from": account})
    tx = consortium.propose(SUSPEND, hospital_b, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts("RecordUnauthorized", hospital_b, HOSPITAL_ROLE):
        records.anchorMany(*cols, {"from": hospital_b})
