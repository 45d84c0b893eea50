"""closeEmergency: the opening hospital ends its access early."""

from __future__ import annotations

from consent_helpers import EMERGENCY, EMERGENCY_DURATION, HOSPITAL_ROLE, JUSTIFICATION, LAB, next_tx_at, now
from helpers import add_operator, reverts_with


def test_close_emergency_ends_access(registry, opened, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    tx = registry.closeEmergency(1, {"from": hospital})
    assert tx.events["EmergencyClosed"] == {"openingId": 1, "patient": patient, "hospital": hospital}
    assert registry.getOpening(1)["expiresAt"] == t
    assert not registry.isPermitted(patient, hospital, EMERGENCY, LAB)
    opening_id, _ = registry.activeEmergency(patient, hospital)
    assert opening_id == 0


def test_close_emergency_keeps_it_pending_review(registry, opened, hospital):
    registry.closeEmergency(1, {"from": hospital})
    assert registry.pendingReviewCount() == 1


def test_close_emergency_by_operator_key(registry, consortium, opened, patient, hospital, operator):
    add_operator(consortium, hospital, operator)
    registry.closeEmergency(1, {"from": operator})
    assert not registry.isPermitted(patient, hospital, EMERGENCY, LAB)


def test_reopen_after_close(registry, opened, patient, hospital):
    registry.closeEmergency(1, {"from": hospital})
    assert registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital}).return_value == 2


def test_close_emergency_by_other_hospital_reverts(registry, opened, hospital_b):
    with reverts_with("EmergencyNotOpener", 1, hospital_b):
        registry.closeEmergency(1, {"from": hospital_b})


def test_close_emergency_by_non_hospital_reverts(registry, opened, auditor):
    with reverts_with("EmergencyUnauthorized", auditor, HOSPITAL_ROLE):
        registry.closeEmergency(1, {"from": auditor})


def test_close_unknown_opening_reverts(registry, hospital):
    with reverts_with("EmergencyUnknownOpening", 7):
        registry.closeEmergency(7, {"from": hospital})


def test_close_expired_opening_reverts(registry, patient, hospital):
    t = now() + 10
    next_tx_at(t)
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    next_tx_at(t + EMERGENCY_DURATION)
    with reverts_with("EmergencyNotOpen", 1, t + EMERGENCY_DURATION):
        registry.closeEmergency(1, {"from": hospital})


def test_close_twice_reverts(registry, opened, hospital):
    t = now() + 10
    next_tx_at(t)
    registry.closeEmergency(1, {"from": hospital})
    with reverts_with("EmergencyNotOpen", 1, t):
        registry.closeEmergency(1, {"from": hospital})
