"""RecordRegistry.anchor: one record, HOSPITAL only, first write wins, the patient only as a commitment."""

from __future__ import annotations

from typing import Any

from helpers import add_operator
from record_helpers import HOSPITAL_ROLE, LAB, ORIGIN_SINGLE, ZERO32, make_rec, reverts


def test_anchor_stores_one_record_under_its_leaf(
    records: Any, hospital: Any, patient: Any, chain: Any
) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.args, {"from": hospital})
    assert tuple(records.getRecord(rec.leaf)) == (hospital, tx.timestamp, LAB, ORIGIN_SINGLE)
    assert tx.return_value == rec.leaf_hex


def test_anchor_emits_record_anchored(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.args, {"from": hospital})
    assert len(tx.events) == 1
    assert dict(tx.events["RecordAnchored"]) == {"leaf": rec.leaf_hex}


def test_anchor_logs_no_patient_data(records: Any, hospital: Any, patient: Any) -> None:
    """Neither the patient address nor the record hash nor the commitment appears in the logs."""
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.args, {"from": hospital})
    logged = str(tx.logs).lower()
    for secret in (str(patient.address)[2:], rec.record_hash.hex(), rec.commitment.hex(), rec.salt.hex()):
        assert secret.lower() not in logged


def test_leaf_matches_python_and_contract(records: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    assert records.recordLeaf(*rec.args) == rec.leaf_hex
    assert records.patientCommitment(patient, rec.salt) == "0x" + rec.commitment.hex()


def test_anchor_by_operator_key_records_the_member(
    records: Any, consortium: Any, hospital: Any, operator: Any, patient: Any
) -> None:
    add_operator(consortium, hospital, operator)
    rec = make_rec("lab-op", patient)
    records.anchor(*rec.args, {"from": operator})
    assert records.getRecord(rec.leaf)[0] == hospital


def test_anchor_by_stranger_reverts(records: Any, stranger: Any, patient: Any) -> None:
    with reverts("RecordUnauthorized", stranger, HOSPITAL_ROLE):
        records.anchor(*make_rec("x", patient).args, {"from": stranger})


def test_anchor_by_other_roles_reverts(
    records: Any, insurer: Any, auditor: Any, council: Any, pharmacy: Any, patient: Any
) -> None:
    for account in (insurer, auditor, council, pharmacy):
        with reverts("RecordUnauthorized", account, HOSPITAL_ROLE):
            records.anchor(*make_rec("x", patient).args, {"from": account})


def test_anchor_by_suspended_hospital_reverts(
    records: Any, consortium: Any, council: Any, hospital: Any, patient: Any
) -> None:
    from helpers import SUSPEND

    tx = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts("RecordUnauthorized", hospital, HOSPITAL_ROLE):
        records.anchor(*make_rec("x", patient).args, {"from": hospital})


def test_anchor_twice_reverts_with_the_first_record(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.args, {"from": hospital})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, tx.timestamp):
        records.anchor(*rec.args, {"from": hospital})


def test_anchor_of_another_hospitals_record_reverts(
    records: Any, hospital: Any, hospital_b: Any, patient: Any
) -> None:
    rec = make_rec("lab-1", patient)
    tx = records.anchor(*rec.args, {"from": hospital})
    with reverts("RecordAlreadyAnchored", rec.leaf, hospital, tx.timestamp):
        records.anchor(*rec.args, {"from": hospital_b})
    assert records.getRecord(rec.leaf)[0] == hospital


def test_same_hash_with_other_commitment_or_class_is_another_record(
    records: Any, hospital: Any, patient: Any, patient2: Any
) -> None:
    rec = make_rec("lab-1", patient)
    records.anchor(*rec.args, {"from": hospital})
    other_patient = make_rec("lab-1", patient2)
    other_class = make_rec("lab-1", patient, data_class=LAB + 1)
    records.anchor(*other_patient.args, {"from": hospital})
    records.anchor(*other_class.args, {"from": hospital})
    assert len({rec.leaf, other_patient.leaf, other_class.leaf}) == 3


def test_anchor_every_valid_data_class(records: Any, hospital: Any, patient: Any) -> None:
    for data_class in range(11):
        rec = make_rec(f"class-{data_class}", patient, data_class)
        records.anchor(*rec.args, {"from": hospital})
        assert records.getRecord(rec.leaf)[2] == data_class


def test_anchor_invalid_data_class_reverts(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("x", patient)
    for bad in (11, 63, 255):
        with reverts("RecordInvalidDataClass", bad):
            records.anchor(rec.record_hash, rec.commitment, bad, {"from": hospital})


def test_anchor_zero_hash_or_commitment_reverts(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("x", patient)
    with reverts("RecordInvalidHash", ZERO32, rec.commitment):
        records.anchor(ZERO32, rec.commitment, LAB, {"from": hospital})
    with reverts("RecordInvalidHash", rec.record_hash, ZERO32):
        records.anchor(rec.record_hash, ZERO32, LAB, {"from": hospital})


def test_unknown_record_reads_as_zero(records: Any, patient: Any) -> None:
    rec = make_rec("never", patient)
    assert tuple(records.getRecord(rec.leaf)) == ("0x0000000000000000000000000000000000000000", 0, 0, 0)
    assert records.supersededBy(rec.leaf) == "0x" + "00" * 32


def test_constructor_wires_consortium_and_consent(records: Any, consortium: Any, consent: Any) -> None:
    assert records.consortium() == consortium
    assert records.consentRegistry() == consent
