"""grant: the patient's direct consent; validation of purpose, classes, period; updates."""

from __future__ import annotations

from brownie import ZERO_ADDRESS
from consent_helpers import (
    ALL_CLASSES,
    CLAIM,
    DAY,
    EMERGENCY,
    IMAGING,
    LAB,
    PUBLIC_HEALTH,
    TREATMENT,
    consent,
    next_tx_at,
    now,
)
from helpers import reverts_with


def test_grant_stores_consent(registry, patient, insurer):
    t = now() + 10
    next_tx_at(t)
    registry.grant(insurer, CLAIM, LAB | IMAGING, t, t + 30 * DAY, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM) == {
        "dataClasses": LAB | IMAGING,
        "grantedAt": t,
        "revokedAt": 0,
        "validFrom": t,
        "validUntil": t + 30 * DAY,
    }


def test_grant_emits_consent_granted(registry, patient, insurer):
    tx = registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert tx.events["ConsentGranted"] == {
        "patient": patient,
        "grantee": insurer,
        "purpose": CLAIM,
        "dataClasses": LAB,
        "validFrom": 0,
        "validUntil": 0,
    }
    assert "GuardianActed" not in tx.events


def test_grant_permits(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
    assert not registry.isPermitted(patient, insurer, TREATMENT, LAB)


def test_grant_again_replaces_classes_and_period(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    t = now() + 5
    next_tx_at(t)
    registry.grant(insurer, CLAIM, IMAGING, 0, t + DAY, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM) == {
        "dataClasses": IMAGING,
        "grantedAt": t,
        "revokedAt": 0,
        "validFrom": 0,
        "validUntil": t + DAY,
    }
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_after_revoke_clears_revocation(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    registry.revoke(insurer, CLAIM, {"from": patient})
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM)["revokedAt"] == 0
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_grant_is_per_purpose_and_grantee(registry, patient, insurer, insurer_b):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert consent(registry, patient, insurer, TREATMENT)["grantedAt"] == 0
    assert consent(registry, patient, insurer_b, CLAIM)["grantedAt"] == 0


def test_grant_all_classes_and_every_purpose(registry, patient, hospital):
    for purpose in range(TREATMENT, PUBLIC_HEALTH + 1):
        registry.grant(hospital, purpose, ALL_CLASSES, 0, 0, {"from": patient})
        assert registry.isPermitted(patient, hospital, purpose, ALL_CLASSES)


def test_grant_open_ended_with_validity_start_only(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, now(), 0, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM)["validUntil"] == 0


def test_grant_to_non_member_is_stored_but_not_permitted(registry, patient, stranger):
    registry.grant(stranger, CLAIM, LAB, 0, 0, {"from": patient})
    assert consent(registry, patient, stranger, CLAIM)["dataClasses"] == LAB
    assert not registry.isPermitted(patient, stranger, CLAIM, LAB)


def test_grant_to_zero_address_reverts(registry, patient):
    with reverts_with("ConsentZeroAddress"):
        registry.grant(ZERO_ADDRESS, CLAIM, LAB, 0, 0, {"from": patient})


def test_grant_purpose_zero_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidPurpose", 0):
        registry.grant(insurer, 0, LAB, 0, 0, {"from": patient})


def test_grant_purpose_above_five_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidPurpose", 6):
        registry.grant(insurer, 6, LAB, 0, 0, {"from": patient})


def test_grant_emergency_purpose_is_valid(registry, patient, hospital):
    registry.grant(hospital, EMERGENCY, LAB, 0, 0, {"from": patient})
    assert registry.isPermitted(patient, hospital, EMERGENCY, LAB)


def test_grant_no_classes_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidDataClasses", 0):
        registry.grant(insurer, CLAIM, 0, 0, 0, {"from": patient})


def test_grant_class_bit_11_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidDataClasses", 1 << 11):
        registry.grant(insurer, CLAIM, 1 << 11, 0, 0, {"from": patient})


def test_grant_valid_and_invalid_class_bits_reverts(registry, patient, insurer):
    with reverts_with("ConsentInvalidDataClasses", LAB | 1 << 63):
        registry.grant(insurer, CLAIM, LAB | 1 << 63, 0, 0, {"from": patient})


def test_grant_until_before_from_reverts(registry, patient, insurer):
    t = now() + DAY
    with reverts_with("ConsentInvalidPeriod", t, t - 1):
        registry.grant(insurer, CLAIM, LAB, t, t - 1, {"from": patient})


def test_grant_until_in_the_past_reverts(registry, patient, insurer):
    t = now()
    next_tx_at(t + 10)
    with reverts_with("ConsentInvalidPeriod", 0, t + 9):
        registry.grant(insurer, CLAIM, LAB, 0, t + 9, {"from": patient})


def test_grant_until_exactly_now_is_accepted(registry, patient, insurer):
    t = now() + 10
    next_tx_at(t)
    registry.grant(insurer, CLAIM, LAB, 0, t, {"from": patient})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)  # the view runs at t: validUntil is inclusive


def test_grant_single_second_period(registry, patient, insurer):
    t = now() + 100
    registry.grant(insurer, CLAIM, LAB, t, t, {"from": patient})
    assert consent(registry, patient, insurer, CLAIM)["validFrom"] == t


def test_grant_by_erc1271_wallet_directly(registry, wallet, patient2, insurer):
    """A smart-contract wallet patient grants with a plain call from the wallet."""
    wallet.execute(registry, registry.grant.encode_input(insurer, CLAIM, LAB, 0, 0), {"from": patient2})
    assert registry.isPermitted(wallet, insurer, CLAIM, LAB)
