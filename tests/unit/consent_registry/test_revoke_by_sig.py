"""revokeBySig: EIP-712 ConsentRevoke signatures relayed by anyone (DESIGN §6.4)."""

from __future__ import annotations

from consent_helpers import (
    CLAIM,
    LAB,
    consent,
    domain,
    grant_by_sig,
    next_tx_at,
    now,
    recover,
    revoke_by_sig,
    revoke_message,
    sign,
)
from helpers import reverts_with


def _relay(registry, msg, sig, relayer):
    return registry.revokeBySig(
        msg["patient"], msg["grantee"], msg["purpose"], msg["deadline"], sig, {"from": relayer}
    )


def test_revoke_by_sig(registry, patient, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    t = now() + 10
    next_tx_at(t)
    tx = revoke_by_sig(registry, patient, hospital, patient, insurer, CLAIM)
    assert tx.events["ConsentRevoked"] == {"patient": patient, "grantee": insurer, "purpose": CLAIM}
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == t
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)
    assert registry.nonces(patient) == 1


def test_revoke_by_sig_after_grant_by_sig(registry, patient, insurer, hospital):
    grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB)
    revoke_by_sig(registry, patient, hospital, patient, insurer, CLAIM)
    assert registry.nonces(patient) == 2
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_revoke_by_sig_replay_reverts(registry, patient, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    msg = revoke_message(registry, patient, insurer, CLAIM)
    sig = sign(patient, "ConsentRevoke", msg, domain(registry))
    _relay(registry, msg, sig, hospital)
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})  # granted again: the old revocation is spent
    seen = recover("ConsentRevoke", dict(msg, nonce=1), domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, msg, sig, hospital)


def test_revoke_by_sig_wrong_signer_reverts(registry, patient, patient2, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    msg = revoke_message(registry, patient, insurer, CLAIM)
    sig = sign(patient2, "ConsentRevoke", msg, domain(registry))
    with reverts_with("ConsentInvalidSignature", patient, patient2):
        _relay(registry, msg, sig, hospital)


def test_revoke_by_sig_grant_signature_is_not_a_revoke(registry, patient, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    msg = revoke_message(registry, patient, insurer, CLAIM)
    grant_msg = dict(msg, dataClasses=0, validFrom=0, validUntil=0)
    sig = sign(patient, "ConsentGrant", grant_msg, domain(registry))
    seen = recover("ConsentRevoke", msg, domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, msg, sig, hospital)


def test_revoke_by_sig_expired_deadline_reverts(registry, patient, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    t = now() + 10
    msg = revoke_message(registry, patient, insurer, CLAIM, deadline=t - 1)
    sig = sign(patient, "ConsentRevoke", msg, domain(registry))
    next_tx_at(t)
    with reverts_with("ConsentSignatureExpired", t - 1, t):
        _relay(registry, msg, sig, hospital)


def test_revoke_by_sig_deadline_exactly_now_is_accepted(registry, patient, insurer, hospital):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    t = now() + 10
    msg = revoke_message(registry, patient, insurer, CLAIM, deadline=t)
    sig = sign(patient, "ConsentRevoke", msg, domain(registry))
    next_tx_at(t)
    _relay(registry, msg, sig, hospital)
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == t


def test_revoke_by_sig_never_granted_reverts(registry, patient, insurer, hospital):
    with reverts_with("ConsentNotFound", patient, insurer, CLAIM):
        revoke_by_sig(registry, patient, hospital, patient, insurer, CLAIM)


def test_revoke_by_sig_erc1271_wallet_patient(registry, wallet, patient2, insurer, hospital):
    grant_by_sig(registry, patient2, hospital, wallet, insurer, CLAIM, LAB)
    revoke_by_sig(registry, patient2, hospital, wallet, insurer, CLAIM)
    assert not registry.isPermitted(wallet, insurer, CLAIM, LAB)


def test_revoke_by_sig_invalid_purpose_reverts(registry, patient, insurer, hospital):
    with reverts_with("ConsentInvalidPurpose", 0):
        revoke_by_sig(registry, patient, hospital, patient, insurer, 0)
    assert registry.nonces(patient) == 0
