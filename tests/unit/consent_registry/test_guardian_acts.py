"""A guardian grants and revokes for the patient, directly or by signature, only while appointed."""

from __future__ import annotations

from consent_helpers import (
    CLAIM,
    DAY,
    IMAGING,
    LAB,
    consent,
    domain,
    grant_by_sig,
    grant_message,
    next_tx_at,
    now,
    revoke_by_sig,
    sign,
)
from helpers import reverts_with


def _appoint(registry, patient, guardian, days=30):
    until = now() + days * DAY
    registry.setGuardian(guardian, until, {"from": patient})
    return until


def test_grant_as_guardian(registry, patient, guardian, insurer):
    _appoint(registry, patient, guardian)
    tx = registry.grantAsGuardian(patient, insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": guardian})
    assert tx.events["ConsentGranted"]["patient"] == patient
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": guardian}
    assert registry.isPermitted(patient, insurer, CLAIM, LAB | IMAGING)


def test_revoke_as_guardian(registry, patient, guardian, insurer):
    _appoint(registry, patient, guardian)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    tx = registry.revokeAsGuardian(patient, insurer, CLAIM, {"from": guardian})
    assert tx.events["ConsentRevoked"] == {"patient": patient, "grantee": insurer, "purpose": CLAIM}
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": guardian}
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_as_guardian_by_stranger_reverts(registry, patient, stranger, insurer):
    with reverts_with("ConsentUnauthorized", stranger, patient):
        registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": stranger})


def test_grant_as_guardian_by_the_patient_itself_reverts(registry, patient, insurer):
    with reverts_with("ConsentUnauthorized", patient, patient):
        registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": patient})


def test_guardian_of_another_patient_reverts(registry, patient, patient2, guardian, insurer):
    _appoint(registry, patient, guardian)
    with reverts_with("ConsentUnauthorized", guardian, patient2):
        registry.grantAsGuardian(patient2, insurer, CLAIM, LAB, 0, 0, {"from": guardian})


def test_revoke_as_guardian_by_stranger_reverts(registry, patient, stranger, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    with reverts_with("ConsentUnauthorized", stranger, patient):
        registry.revokeAsGuardian(patient, insurer, CLAIM, {"from": stranger})


def test_grant_as_guardian_on_its_last_second(registry, patient, guardian, insurer):
    until = _appoint(registry, patient, guardian)
    next_tx_at(until)
    registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": guardian})
    assert consent(registry, patient, insurer, CLAIM)["grantedAt"] == until


def test_grant_as_guardian_after_end_time_reverts(registry, patient, guardian, insurer):
    until = _appoint(registry, patient, guardian)
    next_tx_at(until + 1)
    with reverts_with("ConsentGuardianExpired", patient, guardian, until):
        registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": guardian})


def test_revoke_as_guardian_after_end_time_reverts(registry, patient, guardian, insurer):
    until = _appoint(registry, patient, guardian)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    next_tx_at(until + 1)
    with reverts_with("ConsentGuardianExpired", patient, guardian, until):
        registry.revokeAsGuardian(patient, insurer, CLAIM, {"from": guardian})


def test_removed_guardian_cannot_act(registry, patient, guardian, insurer):
    _appoint(registry, patient, guardian)
    registry.removeGuardian({"from": patient})
    with reverts_with("ConsentUnauthorized", guardian, patient):
        registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": guardian})


def test_replaced_guardian_cannot_act(registry, patient, guardian, guardian2, insurer):
    _appoint(registry, patient, guardian)
    _appoint(registry, patient, guardian2)
    with reverts_with("ConsentUnauthorized", guardian, patient):
        registry.grantAsGuardian(patient, insurer, CLAIM, LAB, 0, 0, {"from": guardian})


def test_grant_by_guardian_signature(registry, patient, guardian, insurer, hospital):
    _appoint(registry, patient, guardian)
    tx = grant_by_sig(registry, guardian, hospital, patient, insurer, CLAIM, LAB)
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": guardian}
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
    assert registry.nonces(patient) == 1  # the patient's nonce, whoever signed


def test_revoke_by_guardian_signature(registry, patient, guardian, insurer, hospital):
    _appoint(registry, patient, guardian)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    tx = revoke_by_sig(registry, guardian, hospital, patient, insurer, CLAIM)
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": guardian}
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_guardian_signature_after_end_time_reverts(registry, patient, guardian, insurer, hospital):
    until = _appoint(registry, patient, guardian)
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, deadline=until + DAY)
    sig = sign(guardian, "ConsentGrant", msg, domain(registry))
    next_tx_at(until + 1)
    with reverts_with("ConsentGuardianExpired", patient, guardian, until):
        registry.grantBySig(patient, insurer, CLAIM, LAB, 0, 0, msg["deadline"], sig, {"from": hospital})


def test_removed_guardian_signature_reverts(registry, patient, guardian, insurer, hospital):
    _appoint(registry, patient, guardian)
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(guardian, "ConsentGrant", msg, domain(registry))
    registry.removeGuardian({"from": patient})
    with reverts_with("ConsentInvalidSignature", patient, guardian):
        registry.grantBySig(patient, insurer, CLAIM, LAB, 0, 0, msg["deadline"], sig, {"from": hospital})


def test_patient_signature_still_works_with_a_guardian(registry, patient, guardian, insurer, hospital):
    _appoint(registry, patient, guardian)
    tx = grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB)
    assert "GuardianActed" not in tx.events


def test_erc1271_wallet_guardian_signature(registry, wallet, patient, patient2, insurer, hospital):
    """A smart-contract wallet (owned by patient2's key) as the guardian of `patient`."""
    registry.setGuardian(wallet, now() + DAY, {"from": patient})
    tx = grant_by_sig(registry, patient2, hospital, patient, insurer, CLAIM, LAB)
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": wallet}
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_as_guardian_validates_like_grant(registry, patient, guardian, insurer):
    _appoint(registry, patient, guardian)
    with reverts_with("ConsentInvalidPurpose", 0):
        registry.grantAsGuardian(patient, insurer, 0, LAB, 0, 0, {"from": guardian})
    with reverts_with("ConsentInvalidDataClasses", 0):
        registry.grantAsGuardian(patient, insurer, CLAIM, 0, 0, 0, {"from": guardian})


def test_revoke_as_guardian_never_granted_reverts(registry, patient, guardian, insurer):
    _appoint(registry, patient, guardian)
    with reverts_with("ConsentNotFound", patient, insurer, CLAIM):
        registry.revokeAsGuardian(patient, insurer, CLAIM, {"from": guardian})
