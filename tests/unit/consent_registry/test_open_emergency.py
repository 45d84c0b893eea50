"""openEmergency: break-glass access by a HOSPITAL key, purpose EMERGENCY, every class, at most 24 h."""

from __future__ import annotations

from brownie import ZERO_ADDRESS
from consent_helpers import (
    ALL_CLASSES,
    CLAIM,
    EMERGENCY,
    EMERGENCY_DURATION,
    GENOMIC,
    HOSPITAL_ROLE,
    JUSTIFICATION,
    LAB,
    PENDING,
    TREATMENT,
    bytes_arg,
    mine_at,
    next_tx_at,
    now,
)
from helpers import SUSPEND, add_operator, reverts_with


def test_open_emergency_records_the_opening(registry, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    tx = registry.openEmergency(patient, 3, JUSTIFICATION, {"from": hospital})
    assert tx.return_value == 1
    assert registry.openingCount() == 1
    assert registry.pendingReviewCount() == 1
    o = registry.getOpening(1)
    assert (o["patient"], o["openedAt"], o["reasonCode"], o["review"]) == (patient, t, 3, PENDING)
    assert (o["hospital"], o["expiresAt"], o["reviewer"], o["reviewedAt"]) == (
        hospital,
        t + EMERGENCY_DURATION,
        ZERO_ADDRESS,
        0,
    )
    assert o["justificationHash"] == "0x" + JUSTIFICATION.hex()


def test_open_emergency_emits_event_for_the_patient(registry, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    tx = registry.openEmergency(patient, 3, JUSTIFICATION, {"from": hospital})
    assert tx.events["EmergencyOpened"] == {
        "openingId": 1,
        "patient": patient,
        "hospital": hospital,
        "reasonCode": 3,
        "justificationHash": "0x" + JUSTIFICATION.hex(),
        "expiresAt": t + EMERGENCY_DURATION,
        "operator": hospital,
    }


def test_open_emergency_permits_emergency_for_all_classes(registry, patient, hospital):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    assert registry.isPermitted(patient, hospital, EMERGENCY, ALL_CLASSES)
    assert registry.isPermitted(patient, hospital, EMERGENCY, GENOMIC)


def test_open_emergency_permits_only_the_emergency_purpose(registry, patient, hospital):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    assert not registry.isPermitted(patient, hospital, TREATMENT, LAB)
    assert not registry.isPermitted(patient, hospital, CLAIM, LAB)


def test_open_emergency_permits_only_the_opening_hospital(registry, patient, hospital, hospital_b):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    assert not registry.isPermitted(patient, hospital_b, EMERGENCY, LAB)


def test_open_emergency_does_not_permit_invalid_classes(registry, patient, hospital):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    assert not registry.isPermitted(patient, hospital, EMERGENCY, 0)
    assert not registry.isPermitted(patient, hospital, EMERGENCY, 1 << 11)


def test_emergency_access_lasts_24_hours(registry, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    mine_at(t + EMERGENCY_DURATION - 1)
    assert registry.isPermitted(patient, hospital, EMERGENCY, LAB)
    assert registry.activeEmergency(patient, hospital)[0] == 1
    mine_at(t + EMERGENCY_DURATION)
    assert not registry.isPermitted(patient, hospital, EMERGENCY, LAB)
    opening_id, expires_at = registry.activeEmergency(patient, hospital)
    assert opening_id == 0 and expires_at == 0


def test_open_emergency_by_operator_key_records_the_member(registry, consortium, patient, hospital, operator):
    add_operator(consortium, hospital, operator)
    tx = registry.openEmergency(patient, 1, JUSTIFICATION, {"from": operator})
    assert tx.events["EmergencyOpened"]["hospital"] == hospital
    assert tx.events["EmergencyOpened"]["operator"] == operator
    assert registry.getOpening(1)["hospital"] == hospital
    assert registry.isPermitted(patient, hospital, EMERGENCY, LAB)


def test_open_emergency_by_non_hospital_reverts(registry, patient, insurer, auditor, stranger, council):
    for account in (insurer, auditor, stranger, council):
        with reverts_with("EmergencyUnauthorized", account, HOSPITAL_ROLE):
            registry.openEmergency(patient, 1, JUSTIFICATION, {"from": account})


def test_open_emergency_by_suspended_hospital_reverts(registry, consortium, council, patient, hospital):
    pid = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council}).return_value
    consortium.execute(pid, {"from": council})
    with reverts_with("EmergencyUnauthorized", hospital, HOSPITAL_ROLE):
        registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})


def test_emergency_access_ends_when_hospital_is_suspended(registry, consortium, council, patient, hospital):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    pid = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council}).return_value
    consortium.execute(pid, {"from": council})
    assert not registry.isPermitted(patient, hospital, EMERGENCY, LAB)


def test_open_emergency_zero_patient_reverts(registry, hospital):
    with reverts_with("ConsentZeroAddress"):
        registry.openEmergency(ZERO_ADDRESS, 1, JUSTIFICATION, {"from": hospital})


def test_open_emergency_zero_reason_reverts(registry, patient, hospital):
    with reverts_with("EmergencyInvalidRequest", 0, bytes_arg(JUSTIFICATION)):
        registry.openEmergency(patient, 0, JUSTIFICATION, {"from": hospital})


def test_open_emergency_zero_justification_reverts(registry, patient, hospital):
    with reverts_with("EmergencyInvalidRequest", 2, bytes_arg(bytes(32))):
        registry.openEmergency(patient, 2, bytes(32), {"from": hospital})


def test_open_emergency_twice_while_open_reverts(registry, patient, hospital):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    with reverts_with("EmergencyAlreadyOpen", patient, hospital, 1):
        registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})


def test_open_emergency_again_after_expiry(registry, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    next_tx_at(t + EMERGENCY_DURATION)
    tx = registry.openEmergency(patient, 2, JUSTIFICATION, {"from": hospital})
    assert tx.return_value == 2
    assert registry.pendingReviewCount() == 2


def test_two_hospitals_open_for_one_patient(registry, patient, hospital, hospital_b):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital_b})
    assert registry.isPermitted(patient, hospital, EMERGENCY, LAB)
    assert registry.isPermitted(patient, hospital_b, EMERGENCY, LAB)
