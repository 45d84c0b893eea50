"""invalidateNonce: burning outstanding signatures (by the patient or its active guardian)."""

from __future__ import annotations

from consent_helpers import CLAIM, DAY, LAB, domain, grant_message, next_tx_at, now, recover, sign
from helpers import reverts_with


def test_invalidate_nonce_voids_outstanding_signature(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    tx = registry.invalidateNonce(patient, {"from": patient})
    assert tx.return_value == 1
    assert registry.nonces(patient) == 1
    seen = recover("ConsentGrant", dict(msg, nonce=1), domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        registry.grantBySig(patient, insurer, CLAIM, LAB, 0, 0, msg["deadline"], sig, {"from": hospital})


def test_invalidate_nonce_emits(registry, patient):
    tx = registry.invalidateNonce(patient, {"from": patient})
    assert tx.events["NonceInvalidated"] == {"patient": patient, "nonce": 0}
    assert "GuardianActed" not in tx.events


def test_invalidate_nonce_by_guardian(registry, patient, guardian):
    registry.setGuardian(guardian, now() + DAY, {"from": patient})
    tx = registry.invalidateNonce(patient, {"from": guardian})
    assert tx.events["NonceInvalidated"] == {"patient": patient, "nonce": 0}
    assert tx.events["GuardianActed"] == {"patient": patient, "guardian": guardian}
    assert registry.nonces(patient) == 1


def test_invalidate_nonce_by_stranger_reverts(registry, patient, stranger):
    with reverts_with("ConsentUnauthorized", stranger, patient):
        registry.invalidateNonce(patient, {"from": stranger})


def test_invalidate_nonce_by_expired_guardian_reverts(registry, patient, guardian):
    until = now() + DAY
    registry.setGuardian(guardian, until, {"from": patient})
    next_tx_at(until + 1)
    with reverts_with("ConsentGuardianExpired", patient, guardian, until):
        registry.invalidateNonce(patient, {"from": guardian})


def test_signature_for_the_next_nonce_works_after_invalidation(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, nonce=1)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    registry.invalidateNonce(patient, {"from": patient})
    registry.grantBySig(patient, insurer, CLAIM, LAB, 0, 0, msg["deadline"], sig, {"from": hospital})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
