"""revoke: the patient's direct revocation keeps the record (revokedAt), never deletes."""

from __future__ import annotations

from consent_helpers import CLAIM, IMAGING, LAB, TREATMENT, consent, next_tx_at, now
from helpers import reverts_with


def test_revoke_sets_revoked_at_and_keeps_the_record(registry, patient, insurer):
    t0 = now() + 5
    next_tx_at(t0)
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    next_tx_at(t0 + 10)
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM) == {
        "dataClasses": LAB | IMAGING,
        "grantedAt": t0,
        "revokedAt": t0 + 10,
        "validFrom": 0,
        "validUntil": 0,
    }


def test_revoke_emits_consent_revoked(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    tx = registry.revoke(insurer, CLAIM, {"from": patient})
    assert tx.events["ConsentRevoked"] == {"patient": patient, "grantee": insurer, "purpose": CLAIM}
    assert "GuardianActed" not in tx.events


def test_revoke_stops_permission(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_revoke_leaves_other_purposes(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    registry.grant(insurer, TREATMENT, LAB, 0, 0, {"from": patient})
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert registry.isPermitted(patient, insurer, TREATMENT, LAB)


def test_revoke_expired_consent_is_allowed(registry, patient, insurer):
    t = now() + 10
    registry.grant(insurer, CLAIM, LAB, 0, t, {"from": patient})
    next_tx_at(t + 100)
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == t + 100


def test_revoke_never_granted_reverts(registry, patient, insurer):
    with reverts_with("ConsentNotFound", patient, insurer, CLAIM):
        registry.revoke(insurer, CLAIM, {"from": patient})


def test_revoke_other_patients_consent_reverts(registry, patient, patient2, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    with reverts_with("ConsentNotFound", patient2, insurer, CLAIM):
        registry.revoke(insurer, CLAIM, {"from": patient2})


def test_revoke_twice_reverts(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    t = now() + 5
    next_tx_at(t)
    registry.revoke(insurer, CLAIM, {"from": patient})
    with reverts_with("ConsentAlreadyRevoked", patient, insurer, CLAIM, t):
        registry.revoke(insurer, CLAIM, {"from": patient})


def test_revoke_invalid_purpose_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidPurpose", 0):
        registry.revoke(insurer, 0, {"from": patient})
    with reverts_with("ConsentInvalidPurpose", 9):
        registry.revoke(insurer, 9, {"from": patient})


def test_regrant_keeps_the_revocation_queryable(registry, patient, insurer):
    """SECURITY.md (issue 12 item 10): a new grant after a revocation used to erase revokedAt from storage."""
    t = now() + 10
    next_tx_at(t)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    next_tx_at(t + 10)
    registry.revoke(insurer, CLAIM, {"from": patient})
    next_tx_at(t + 20)
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    assert registry.lastRevokedAt(patient, insurer, CLAIM) == t + 10  # the revocation is still on chain
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == 0  # the current grant is not revoked
    assert registry.isPermitted(patient, insurer, CLAIM, LAB | IMAGING)
    next_tx_at(t + 30)
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert registry.lastRevokedAt(patient, insurer, CLAIM) == t + 30
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == t + 30
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_revoke_and_regrant_in_one_second(registry, patient, insurer):
    """Same block time for the revocation and the next grant: the later transaction decides."""
    t = now() + 10
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    next_tx_at(t)
    registry.revoke(insurer, CLAIM, {"from": patient})
    next_tx_at(t)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
    assert registry.lastRevokedAt(patient, insurer, CLAIM) == t
    next_tx_at(t)
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_last_revoked_at_is_zero_without_a_revocation(registry, patient, insurer):
    assert registry.lastRevokedAt(patient, insurer, CLAIM) == 0
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert registry.lastRevokedAt(patient, insurer, CLAIM) == 0
