"""RecordRegistry.logAccess: commitment opening + isPermitted (or break-glass) -> the access event."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import add_operator
from record_helpers import (
    CLAIM,
    EMERGENCY,
    HOSPITAL_ROLE,
    IMAGING,
    LAB,
    TREATMENT,
    URI,
    hexproof,
    make_rec,
    random_recs,
    reverts,
    tree_of,
)


@pytest.fixture
def rec(records: Any, hospital: Any, patient: Any) -> Any:
    r = make_rec("lab-7", patient, LAB)
    records.anchor(*r.anchor_args, {"from": hospital})
    return r


def _grant(consent: Any, patient: Any, grantee: Any, purpose: int, classes: int) -> None:
    consent.grant(grantee, purpose, classes, 0, 0, {"from": patient})


def _log(records: Any, rec: Any, purpose: int, sender: Any, salt: bytes | None = None) -> Any:
    return records.logAccess(
        rec.record_hash, rec.patient, salt or rec.salt, rec.data_class, purpose, {"from": sender}
    )


def test_log_access_with_consent_emits_record_accessed(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    tx = _log(records, rec, TREATMENT, hospital)
    assert len(tx.events) == 1
    event = tx.events["RecordAccessed"]
    assert (event["leaf"], event["patient"], event["accessor"], event["purpose"], event["by"]) == (
        rec.leaf_hex,
        funded_patient,
        hospital,
        TREATMENT,
        hospital,
    )
    assert tx.return_value == rec.leaf_hex


def test_access_event_leaves_out_record_hash_and_salt(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    tx = _log(records, rec, TREATMENT, hospital)
    logged = str(tx.logs).lower()
    assert rec.record_hash.hex() not in logged
    assert rec.salt.hex() not in logged
    assert rec.commitment.hex() not in logged


def test_log_access_by_operator_key_names_member_and_key(
    records: Any, consent: Any, consortium: Any, funded_patient: Any, hospital: Any, operator: Any, rec: Any
) -> None:
    add_operator(consortium, hospital, operator)
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    event = _log(records, rec, TREATMENT, operator).events["RecordAccessed"]
    assert (event["accessor"], event["by"]) == (hospital, operator)


def test_other_hospital_with_consent_may_log_access(
    records: Any, consent: Any, funded_patient: Any, hospital_b: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital_b, TREATMENT, 1 << LAB)
    assert _log(records, rec, TREATMENT, hospital_b).events["RecordAccessed"]["accessor"] == hospital_b


def test_log_access_without_consent_reverts(
    records: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, 1 << LAB):
        _log(records, rec, TREATMENT, hospital)


def test_consent_for_other_class_purpose_or_grantee_does_not_permit(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, hospital_b: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << IMAGING)
    _grant(consent, funded_patient, hospital, CLAIM, 1 << LAB)
    _grant(consent, funded_patient, hospital_b, TREATMENT, 1 << LAB)
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, 1 << LAB):
        _log(records, rec, TREATMENT, hospital)


def test_revoked_consent_does_not_permit(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    _log(records, rec, TREATMENT, hospital)
    consent.revoke(hospital, TREATMENT, {"from": funded_patient})
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, 1 << LAB):
        _log(records, rec, TREATMENT, hospital)


def test_break_glass_permits_emergency_access(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, hospital_b: Any, rec: Any
) -> None:
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, EMERGENCY, 1 << LAB):
        _log(records, rec, EMERGENCY, hospital)
    consent.openEmergency(funded_patient, 1, b"\x42" * 32, {"from": hospital})
    event = _log(records, rec, EMERGENCY, hospital).events["RecordAccessed"]
    assert (event["accessor"], event["purpose"]) == (hospital, EMERGENCY)
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, 1 << LAB):
        _log(records, rec, TREATMENT, hospital)  # break-glass is for EMERGENCY only
    with reverts("RecordAccessNotPermitted", funded_patient, hospital_b, EMERGENCY, 1 << LAB):
        _log(records, rec, EMERGENCY, hospital_b)  # and for the opening hospital only


def test_break_glass_ends_after_it_expires(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, rec: Any, chain: Any
) -> None:
    consent.openEmergency(funded_patient, 1, b"\x42" * 32, {"from": hospital})
    chain.sleep(int(consent.EMERGENCY_DURATION()) + 1)
    chain.mine()
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, EMERGENCY, 1 << LAB):
        _log(records, rec, EMERGENCY, hospital)


def test_wrong_salt_or_patient_reverts_nonexistent(
    records: Any, consent: Any, funded_patient: Any, patient2: Any, hospital: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    wrong_salt = make_rec("lab-7", funded_patient, LAB, salt=b"\x09" * 32)
    with reverts("RecordNonexistent", wrong_salt.leaf):
        _log(records, wrong_salt, TREATMENT, hospital)
    wrong_patient = make_rec("lab-7", patient2, LAB, salt=rec.salt)
    with reverts("RecordNonexistent", wrong_patient.leaf):
        _log(records, wrong_patient, TREATMENT, hospital)


def test_wrong_class_reverts_nonexistent(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    other = make_rec("lab-7", funded_patient, IMAGING, salt=rec.salt)
    with reverts("RecordNonexistent", other.leaf):
        _log(records, other, TREATMENT, hospital)


def test_unmaterialised_batch_record_must_be_materialised_first(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, stranger: Any
) -> None:
    recs = random_recs(4, funded_patient)
    tree = tree_of(recs)
    records.anchorBatch(tree.root, 4, URI, {"from": hospital})
    rec = recs[LAB]
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << rec.data_class)
    with reverts("RecordNonexistent", rec.leaf):
        _log(records, rec, TREATMENT, hospital)
    records.materialise(tree.root, *rec.args, hexproof(tree.get_proof(LAB)), {"from": stranger})
    assert _log(records, rec, TREATMENT, hospital).events["RecordAccessed"]["leaf"] == rec.leaf_hex


def test_invalid_purpose_reverts(records: Any, hospital: Any, rec: Any) -> None:
    for bad in (0, 6, 255):
        with reverts("RecordInvalidPurpose", bad):
            _log(records, rec, bad, hospital)


def test_invalid_class_reverts(records: Any, hospital: Any, rec: Any) -> None:
    with reverts("RecordInvalidDataClass", 11):
        records.logAccess(rec.record_hash, rec.patient, rec.salt, 11, TREATMENT, {"from": hospital})


def test_log_access_by_non_hospital_reverts(
    records: Any, consent: Any, funded_patient: Any, insurer: Any, stranger: Any, rec: Any
) -> None:
    _grant(consent, funded_patient, insurer, CLAIM, 1 << LAB)
    for who in (insurer, stranger):
        with reverts("RecordUnauthorized", who, HOSPITAL_ROLE):
            _log(records, rec, CLAIM, who)


def test_log_access_by_suspended_hospital_reverts(
    records: Any, consent: Any, consortium: Any, council: Any, funded_patient: Any, hospital: Any, rec: Any
) -> None:
    from helpers import SUSPEND

    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    tx = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts("RecordUnauthorized", hospital, HOSPITAL_ROLE):
        _log(records, rec, TREATMENT, hospital)
