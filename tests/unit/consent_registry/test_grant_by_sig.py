"""grantBySig: EIP-712 ConsentGrant signatures relayed by anyone (DESIGN §6.4)."""

from __future__ import annotations

from brownie import ZERO_ADDRESS
from consent_helpers import (
    CLAIM,
    DAY,
    HOUR,
    IMAGING,
    LAB,
    consent,
    domain,
    grant_by_sig,
    grant_message,
    high_s,
    next_tx_at,
    now,
    recover,
    sign,
)
from helpers import reverts_with


def _relay(registry, msg, sig, relayer):
    return registry.grantBySig(
        msg["patient"],
        msg["grantee"],
        msg["purpose"],
        msg["dataClasses"],
        msg["validFrom"],
        msg["validUntil"],
        msg["deadline"],
        sig,
        {"from": relayer},
    )


def test_grant_by_sig_relayed_by_hospital(registry, patient, insurer, hospital):
    grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB | IMAGING, 0, 0)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB | IMAGING)


def test_grant_by_sig_relayed_by_a_stranger(registry, patient, insurer, stranger):
    grant_by_sig(registry, patient, stranger, patient, insurer, CLAIM, LAB)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_by_sig_stores_fields(registry, patient, insurer, hospital):
    t = now() + 10
    next_tx_at(t)
    grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB, t + HOUR, t + DAY)
    assert consent(registry, patient, insurer, CLAIM) == {
        "dataClasses": LAB,
        "grantedAt": t,
        "revokedAt": 0,
        "validFrom": t + HOUR,
        "validUntil": t + DAY,
    }


def test_grant_by_sig_emits_consent_granted(registry, patient, insurer, hospital):
    tx = grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB, 0, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient,
        "grantee": insurer,
        "purpose": CLAIM,
        "dataClasses": LAB,
        "validFrom": 0,
        "validUntil": 0,
    }
    assert "GuardianActed" not in tx.events


def test_grant_by_sig_consumes_the_nonce(registry, patient, insurer, hospital):
    assert registry.nonces(patient) == 0
    grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, LAB)
    assert registry.nonces(patient) == 1
    grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, IMAGING)
    assert registry.nonces(patient) == 2


def test_grant_by_sig_replay_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    _relay(registry, msg, sig, hospital)
    # the nonce moved on: the contract now hashes nonce 1, so the signer it recovers is some other address
    replayed = recover("ConsentGrant", dict(msg, nonce=1), domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, replayed):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_future_nonce_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, nonce=1)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    seen = recover("ConsentGrant", dict(msg, nonce=0), domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_other_chain_id_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry, chain_id=1))
    seen = recover("ConsentGrant", msg, domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_other_contract_reverts(registry, patient, insurer, hospital, consortium):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry, verifying_contract=consortium.address))
    seen = recover("ConsentGrant", msg, domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_for_another_grantee_reverts(registry, patient, insurer, insurer_b, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    tampered = dict(msg, grantee=str(insurer_b))
    seen = recover("ConsentGrant", tampered, domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, tampered, sig, hospital)


def test_grant_by_sig_with_changed_classes_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    tampered = dict(msg, dataClasses=LAB | IMAGING)
    seen = recover("ConsentGrant", tampered, domain(registry), sig)
    with reverts_with("ConsentInvalidSignature", patient, seen):
        _relay(registry, tampered, sig, hospital)


def test_grant_by_sig_wrong_signer_reverts(registry, patient, patient2, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient2, "ConsentGrant", msg, domain(registry))
    with reverts_with("ConsentInvalidSignature", patient, patient2):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_expired_deadline_reverts(registry, patient, insurer, hospital):
    t = now() + 10
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, deadline=t - 1)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    next_tx_at(t)
    with reverts_with("ConsentSignatureExpired", t - 1, t):
        _relay(registry, msg, sig, hospital)


def test_grant_by_sig_deadline_exactly_now_is_accepted(registry, patient, insurer, hospital):
    t = now() + 10
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, deadline=t)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    next_tx_at(t)
    _relay(registry, msg, sig, hospital)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_by_sig_deadline_is_checked_before_the_signature(registry, patient, insurer, hospital):
    t = now() + 10
    msg = grant_message(registry, patient, insurer, CLAIM, LAB, deadline=t - 1)
    next_tx_at(t)
    with reverts_with("ConsentSignatureExpired", t - 1, t):
        _relay(registry, msg, b"\x00" * 65, hospital)


def test_grant_by_sig_high_s_twin_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    with reverts_with("ConsentInvalidSignature", patient, ZERO_ADDRESS):
        _relay(registry, msg, high_s(sig), hospital)
    _relay(registry, msg, sig, hospital)  # the canonical one still works


def test_grant_by_sig_zero_signature_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    with reverts_with("ConsentInvalidSignature", patient, ZERO_ADDRESS):
        _relay(registry, msg, b"\x00" * 64 + b"\x1b", hospital)


def test_grant_by_sig_short_signature_reverts(registry, patient, insurer, hospital):
    msg = grant_message(registry, patient, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    with reverts_with("ConsentInvalidSignature", patient, ZERO_ADDRESS):
        _relay(registry, msg, sig[:64], hospital)


def test_grant_by_sig_zero_patient_reverts(registry, insurer, hospital):
    msg = grant_message(registry, ZERO_ADDRESS, insurer, CLAIM, LAB)
    with reverts_with("ConsentZeroAddress"):
        _relay(registry, msg, b"\x00" * 64 + b"\x1b", hospital)


def test_grant_by_sig_validates_like_grant(registry, patient, insurer, hospital):
    with reverts_with("ConsentInvalidPurpose", 7):
        grant_by_sig(registry, patient, hospital, patient, insurer, 7, LAB)
    with reverts_with("ConsentInvalidDataClasses", 1 << 12):
        grant_by_sig(registry, patient, hospital, patient, insurer, CLAIM, 1 << 12)
    with reverts_with("ConsentZeroAddress"):
        grant_by_sig(registry, patient, hospital, patient, ZERO_ADDRESS, CLAIM, LAB)
    assert registry.nonces(patient) == 0


def test_grant_by_sig_erc1271_wallet_patient(registry, wallet, patient2, insurer, hospital):
    # the wallet's owner key (patient2) signs the message that names the wallet as patient
    grant_by_sig(registry, patient2, hospital, wallet, insurer, CLAIM, LAB)
    assert registry.isPermitted(wallet, insurer, CLAIM, LAB)
    assert registry.nonces(wallet) == 1


def test_grant_by_sig_erc1271_wallet_rejects_other_key(registry, wallet, patient, insurer, hospital):
    msg = grant_message(registry, wallet, insurer, CLAIM, LAB)
    sig = sign(patient, "ConsentGrant", msg, domain(registry))
    with reverts_with("ConsentInvalidSignature", wallet, patient):
        _relay(registry, msg, sig, hospital)
