"""isPermitted: classes, validity window edges, revocation, grantee membership, invalid questions."""

from __future__ import annotations

from brownie import ZERO_ADDRESS
from consent_helpers import (
    ALL_CLASSES,
    CLAIM,
    DAY,
    GENOMIC,
    IMAGING,
    LAB,
    RESEARCH,
    TREATMENT,
    mine_at,
    now,
)
from helpers import SUSPEND, add_operator


def test_not_permitted_without_consent(registry, patient, insurer):
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_permitted_for_granted_classes(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
    assert registry.isPermitted(patient, insurer, CLAIM, IMAGING)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB | IMAGING)


def test_partial_class_overlap_is_not_permitted(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB | IMAGING, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB | GENOMIC)
    assert not registry.isPermitted(patient, insurer, CLAIM, GENOMIC)


def test_empty_request_is_not_permitted(registry, patient, insurer):
    registry.grant(insurer, CLAIM, ALL_CLASSES, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, 0)


def test_invalid_class_bits_are_not_permitted(registry, patient, insurer):
    registry.grant(insurer, CLAIM, ALL_CLASSES, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, 1 << 11)
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB | 1 << 40)


def test_invalid_purposes_are_not_permitted_and_do_not_revert(registry, patient, insurer):
    assert not registry.isPermitted(patient, insurer, 0, LAB)
    assert not registry.isPermitted(patient, insurer, 6, LAB)
    assert not registry.isPermitted(patient, insurer, 255, LAB)


def test_other_purpose_is_not_permitted(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, insurer, RESEARCH, LAB)


def test_other_patient_or_grantee_is_not_permitted(registry, patient, patient2, insurer, insurer_b):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient2, insurer, CLAIM, LAB)
    assert not registry.isPermitted(patient, insurer_b, CLAIM, LAB)


def test_valid_from_in_the_future(registry, patient, insurer):
    start = now() + DAY
    registry.grant(insurer, CLAIM, LAB, start, 0, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)
    mine_at(start - 1)
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)
    mine_at(start)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_valid_until_is_inclusive(registry, patient, insurer):
    end = now() + DAY
    registry.grant(insurer, CLAIM, LAB, 0, end, {"from": patient})
    mine_at(end)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)
    mine_at(end + 1)
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_open_ended_consent_stays_valid(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    mine_at(now() + 3650 * DAY)
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_revoked_consent_is_not_permitted(registry, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    registry.revoke(insurer, CLAIM, {"from": patient})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_non_member_grantee_is_not_permitted(registry, patient, stranger):
    registry.grant(stranger, TREATMENT, LAB, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, stranger, TREATMENT, LAB)


def test_suspended_grantee_is_not_permitted_until_reinstated(registry, consortium, council, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    pid = consortium.propose(SUSPEND, insurer, 0, "", "", {"from": council}).return_value
    consortium.execute(pid, {"from": council})
    assert not registry.isPermitted(patient, insurer, CLAIM, LAB)
    pid = consortium.propose(3, insurer, 0, "", "", {"from": council}).return_value  # REINSTATE
    consortium.execute(pid, {"from": council})
    assert registry.isPermitted(patient, insurer, CLAIM, LAB)


def test_operator_key_is_not_a_grantee(registry, consortium, patient, hospital, operator):
    """Consent names the member institution; one of its operator keys is not a member address."""
    add_operator(consortium, hospital, operator)
    registry.grant(operator, TREATMENT, LAB, 0, 0, {"from": patient})
    registry.grant(hospital, TREATMENT, LAB, 0, 0, {"from": patient})
    assert not registry.isPermitted(patient, operator, TREATMENT, LAB)
    assert registry.isPermitted(patient, hospital, TREATMENT, LAB)


def test_zero_addresses_are_not_permitted(registry, patient, insurer):
    assert not registry.isPermitted(ZERO_ADDRESS, insurer, CLAIM, LAB)
    assert not registry.isPermitted(patient, ZERO_ADDRESS, CLAIM, LAB)


def test_is_permitted_from_another_contract(registry, probe, patient, insurer):
    registry.grant(insurer, CLAIM, LAB, 0, 0, {"from": patient})
    assert probe.measure(registry, patient, insurer, CLAIM, LAB)[0]
    assert probe.measureSolidityCall(registry, patient, insurer, CLAIM, LAB)[0]
    assert not probe.measure(registry, patient, insurer, CLAIM, IMAGING)[0]
