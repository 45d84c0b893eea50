"""RecordRegistry.anchor: one record, HOSPITAL only, first write wins; publishes (recordHash, leaf) only."""

from __future__ import annotations

from typing import Any

from helpers import add_operator
from record_helpers import (
    HOSPITAL_ROLE,
    LAB,
    ORIGIN_SINGLE,
    TREATMENT,
    ZERO32,
    make_rec,
    random_recs,
    reverts,
)


def test_anchor_stores_one_record_under_its_leaf(
    records: Any, hospital: Any, patient: Any, chain: Any
) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    assert tuple(records.getRecord(rec.leaf)) == (hospital, tx.timestamp, ORIGIN_SINGLE)
    assert tx.return_value == rec.leaf_hex


def test_anchor_emits_record_anchored(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    assert len(tx.events) == 1
    assert dict(tx.events["RecordAnchored"]) == rec.anchored_event


def test_leaf_matches_python_and_contract(records: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    assert records.recordLeaf(*rec.args) == rec.leaf_hex
    assert records.patientCommitment(patient, rec.salt) == "0x" + rec.commitment.hex()


def test_anchor_by_operator_key_records_the_member(
    records: Any, consortium: Any, hospital: Any, operator: Any, patient: Any
) -> None:
    add_operator(consortium, hospital, operator)
    rec = make_rec("lab-op", patient)
    records.anchor(*rec.anchor_args, {"from": operator})
    assert records.getRecord(rec.leaf)[0] == hospital


def test_anchor_by_stranger_reverts(records: Any, stranger: Any, patient: Any) -> None:
    with reverts("RecordUnauthorized", stranger, HOSPITAL_ROLE):
        records.anchor(*make_rec("x", patient).anchor_args, {"from": stranger})


def test_anchor_by_other_roles_reverts(
    records: Any, insurer: Any, auditor: Any, council: Any, pharmacy: Any, patient: Any
) -> None:
    for account in (insurer, auditor, council, pharmacy):
        with reverts("RecordUnauthorized", account, HOSPITAL_ROLE):
            records.anchor(*make_rec("x", patient).anchor_args, {"from": account})


def test_anchor_by_suspended_hospital_reverts(
    records: Any, consortium: Any, council: Any, hospital: Any, patient: Any
) -> None:
    from helpers import SUSPEND

    tx = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts("RecordUnauthorized", hospital, HOSPITAL_ROLE):
        records.anchor(*make_rec("x", patient).anchor_args, {"from": hospital})


def test_anchor_twice_reverts_with_the_first_record(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, tx.timestamp):
        records.anchor(*rec.anchor_args, {"from": hospital})


def test_anchor_of_another_hospitals_record_reverts(
    records: Any, hospital: Any, hospital_b: Any, patient: Any
) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, tx.timestamp):
        records.anchor(*rec.anchor_args, {"from": hospital_b})
    assert records.getRecord(rec.leaf)[0] == hospital


def test_same_hash_with_other_commitment_or_class_is_another_record(
    records: Any, hospital: Any, patient: Any, patient2: Any
) -> None:
    rec = make_rec("lab-1", patient)
    records.anchor(*rec.anchor_args, {"from": hospital})
    other_patient = make_rec("lab-1", patient2)
    other_class = make_rec("lab-1", patient, data_class=LAB + 1)
    other_salt = make_rec("lab-1", patient, salt=b"\x07" * 32)
    for other in (other_patient, other_class, other_salt):
        records.anchor(*other.anchor_args, {"from": hospital})
        assert records.getRecord(other.leaf)[0] == hospital
    assert len({rec.leaf, other_patient.leaf, other_class.leaf, other_salt.leaf}) == 4


def test_records_of_one_patient_have_distinct_commitments(patient: Any) -> None:
    """DESIGN §6.3 v2: the default helpers give each record its own salt, so no two share a commitment."""
    recs = [make_rec(f"r{i}", patient) for i in range(5)] + random_recs(5, patient)
    assert len({r.commitment for r in recs}) == len(recs)


def test_anchor_every_valid_data_class(records: Any, hospital: Any, patient: Any) -> None:
    """The class is in the leaf only: getRecord has three fields and none of them is the class."""
    for data_class in range(11):
        rec = make_rec(f"class-{data_class}", patient, data_class)
        tx = records.anchor(*rec.anchor_args, {"from": hospital})
        assert tuple(records.getRecord(rec.leaf)) == (hospital, tx.timestamp, ORIGIN_SINGLE)


def test_get_record_abi_has_no_data_class(records: Any) -> None:
    (entry,) = [e for e in records.abi if e.get("name") == "getRecord"]
    fields = [c["name"] for c in entry["outputs"][0]["components"]]
    assert fields == ["hospital", "anchoredAt", "origin"]


def test_anchor_takes_any_leaf_unchecked(records: Any, hospital: Any, patient: Any) -> None:
    """The leaf is the hospital's: anchor cannot check it (that would need the opening). A leaf of an
    out-of-range class is stored, but no opening of it passes (logAccess reverts on the class first)."""
    rec = make_rec("x", patient)
    odd_leaf = records.recordLeaf(rec.record_hash, rec.commitment, 11)
    records.anchor(rec.record_hash, odd_leaf, {"from": hospital})
    assert records.getRecord(odd_leaf)[0] == hospital
    with reverts("RecordInvalidDataClass", 11):
        records.logAccess(rec.record_hash, rec.patient, rec.salt, 11, TREATMENT, {"from": hospital})


def test_anchor_zero_hash_or_leaf_reverts(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("x", patient)
    with reverts("RecordInvalidHash", ZERO32, rec.leaf):
        records.anchor(ZERO32, rec.leaf, {"from": hospital})
    with reverts("RecordInvalidHash", rec.record_hash, ZERO32):
        records.anchor(rec.record_hash, ZERO32, {"from": hospital})
    with reverts("RecordInvalidHash", ZERO32, ZERO32):
        records.anchor(ZERO32, ZERO32, {"from": hospital})


def test_anchor_zero_leaf_by_stranger_reverts_on_the_role_first(
    records: Any, stranger: Any, patient: Any
) -> None:
    with reverts("RecordUnauthorized", stranger, HOSPITAL_ROLE):
        records.anchor(make_rec("x", patient).record_hash, ZERO32, {"from": stranger})


def test_unknown_record_reads_as_zero(records: Any, patient: Any) -> None:
    rec = make_rec("never", patient)
    assert tuple(records.getRecord(rec.leaf)) == ("0x0000000000000000000000000000000000000000", 0, 0)
    assert records.supersededBy(rec.leaf) == "0x" + "00" * 32


def test_constructor_wires_consortium_and_consent(records: Any, consortium: Any, consent: Any) -> None:
    assert records.consortium() == consortium
    assert records.consentRegistry() == consent
