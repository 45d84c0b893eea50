"""ClaimsManager on the real ConsentRegistry and RecordRegistry (not the mocks): patients grant consent
themselves, hospitals anchor records (single and Merkle batch), and the claim checks hold end to end."""

from __future__ import annotations

import pytest
from brownie import chain
from claims_helpers import (
    APPROVED,
    CLAIM,
    DEFAULT_WINDOW,
    ESCALATED,
    IMAGING,
    LAB,
    PAID,
    REJECTED,
    anchored,
    b32,
    commitment,
    create_policy,
    grant_consent,
    money_balanced,
    new_evidence,
    revoke_consent,
    submit,
)
from helpers import reverts_with

from medchain.merkle import StandardMerkleTree


@pytest.fixture(scope="module")
def consent(ConsentRegistry, consortium, council):
    return ConsentRegistry.deploy(consortium, {"from": council})


@pytest.fixture(scope="module")
def records(RecordRegistry, consortium, consent, council):
    return RecordRegistry.deploy(consortium, consent, {"from": council})


def test_wired_to_real_registries(claims, consent, records):
    assert claims.consentRegistry() == consent
    assert claims.recordRegistry() == records
    assert consent.isPermitted.abi["name"] == "isPermitted"


def test_full_lifecycle_submit_approve_pay_withdraw(
    claims, token, records, policy, hospital, patient, insurer
):
    evidence = anchored(records, hospital, patient, 3)
    claim = submit(claims, policy, 12_345, evidence, hospital).return_value
    claims.approveClaim(claim, 12_000, {"from": insurer})
    claims.payClaim(claim, {"from": hospital})
    claims.withdrawPayout(patient, {"from": hospital})
    assert claims.getClaim(claim)["status"] == PAID
    assert token.balanceOf(patient) == 12_000
    assert money_balanced(claims, token, [insurer], [patient])


def test_revoked_consent_blocks_claims(claims, consent, records, policy, hospital, patient, insurer):
    evidence = anchored(records, hospital, patient, 1)
    revoke_consent(consent, patient, insurer)
    with reverts_with("ClaimConsentMissing", patient, insurer, 1 << LAB):
        submit(claims, policy, 1_000, evidence, hospital)


def test_hospital_cannot_claim_without_holders_consent(claims, records, insurer, hospital, patient2):
    pid = create_policy(claims, insurer, patient2)
    evidence = anchored(records, hospital, patient2, 1)
    with reverts_with("ClaimConsentMissing", patient2, insurer, 1 << LAB):
        submit(claims, pid, 1_000, evidence, hospital)


def test_consent_must_cover_every_evidence_class(
    claims, consent, records, policy, hospital, patient, insurer
):
    consent.grant(insurer, CLAIM, 1 << LAB, 0, 0, {"from": patient})
    evidence = anchored(records, hospital, patient, 1, LAB) + anchored(records, hospital, patient, 1, IMAGING)
    with reverts_with("ClaimConsentMissing", patient, insurer, (1 << LAB) | (1 << IMAGING)):
        submit(claims, policy, 1_000, evidence, patient)
    submit(claims, policy, 1_000, evidence[:1], patient)


def test_expired_consent_blocks_claims(claims, consent, records, policy, hospital, patient, insurer):
    now = chain[-1].timestamp
    consent.grant(insurer, CLAIM, 1 << LAB, 0, now + 100, {"from": patient})
    evidence = anchored(records, hospital, patient, 1)
    chain.sleep(200)
    with reverts_with("ClaimConsentMissing", patient, insurer, 1 << LAB):
        submit(claims, policy, 1_000, evidence, patient)


def test_other_patients_record_is_not_evidence(claims, records, policy, hospital, patient, patient2):
    (ev,) = anchored(records, hospital, patient2, 1)
    with reverts_with("ClaimEvidenceNotAnchored", b32(ev.record_hash), b32(ev.leaf(patient))):
        submit(claims, policy, 1_000, [ev], patient)


def test_duplicate_guard_across_two_insurers(
    claims, consent, token, records, policy, hospital, patient, insurer, insurer_b
):
    evidence = anchored(records, hospital, patient, 2)
    first = submit(claims, policy, 1_000, evidence, patient).return_value
    grant_consent(consent, patient, insurer_b)
    other = create_policy(claims, insurer_b, patient)
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[1].record_hash), first):
        submit(claims, other, 1_000, evidence[1:], hospital)
    claims.rejectClaim(first, 3, {"from": insurer})
    second = submit(claims, other, 1_000, evidence[1:], hospital).return_value
    assert claims.liveClaimOf(evidence[1].hex) == second
    assert claims.liveClaimOf(evidence[0].hex) == 0


def test_batch_record_counts_once_materialised(claims, records, policy, hospital, patient):
    """A record anchored inside a Merkle batch must be materialised (anyone, with its proof) before it can
    back a claim: the claim check reads stored records only."""
    evs = [new_evidence(LAB) for _ in range(4)]
    values = [(e.record_hash, commitment(patient, e.salt), e.data_class) for e in evs]
    tree = StandardMerkleTree.of(values)
    records.anchorBatch(tree.root, len(values), "https://h.example/batches/1", {"from": hospital})
    with reverts_with("ClaimEvidenceNotAnchored", b32(evs[0].record_hash), b32(evs[0].leaf(patient))):
        submit(claims, policy, 1_000, evs[:1], patient)
    records.materialise(tree.root, *values[0], tree.get_proof(0), {"from": patient})
    claim = submit(claims, policy, 1_000, evs[:1], patient).return_value
    assert claims.liveClaimOf(evs[0].hex) == claim


def test_escalation_to_council_on_real_suite(claims, records, policy, hospital, patient, council):
    claim = submit(claims, policy, 5_000, anchored(records, hospital, patient, 1), hospital).return_value
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.escalateClaim(claim, {"from": hospital})
    assert claims.getClaim(claim)["status"] == ESCALATED
    claims.approveEscalated(claim, 5_000, {"from": council})
    assert claims.getClaim(claim)["status"] == APPROVED


def test_suspended_insurer_loses_consent_and_decisions(
    claims, consortium, records, policy, hospital, patient, insurer, council
):
    """ConsentRegistry answers false for an inactive grantee, so no new claims reach a suspended insurer; its
    pending claims go to the council after the window."""
    from helpers import SUSPEND

    claim = submit(claims, policy, 5_000, anchored(records, hospital, patient, 1), patient).return_value
    consortium.execute(
        consortium.propose(SUSPEND, insurer, 0, "", "", {"from": council}).return_value, {"from": council}
    )
    with reverts_with("ClaimConsentMissing", patient, insurer, 1 << LAB):
        submit(claims, policy, 5_000, anchored(records, hospital, patient, 1), patient)
    with reverts_with("ClaimNotPolicyInsurer", claim, insurer, insurer):
        claims.rejectClaim(claim, 1, {"from": insurer})
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.escalateClaim(claim, {"from": patient})
    claims.rejectEscalated(claim, 9, {"from": council})
    assert claims.getClaim(claim)["status"] == REJECTED


def test_submit_gas_on_real_registries(claims, records, policy, hospital, patient):
    for sender in (patient, hospital):
        tx = submit(claims, policy, 1_000, anchored(records, hospital, patient, 3), sender)
        print(
            f"submitClaim, 3 evidence, real registries, by {'holder' if sender == patient else 'hospital'}: "
            f"{tx.gas_used}"
        )
        assert tx.gas_used <= 200_000


def test_each_evidence_record_has_its_own_salt(claims, records, policy, hospital, patient, insurer):
    """DESIGN §6.3 v2: the evidence of one claim opens one commitment per record, none shared."""
    evidence = anchored(records, hospital, patient, 3)
    assert len({commitment(patient, e.salt) for e in evidence}) == 3
    tx = submit(claims, policy, 1_000, evidence, patient)
    assert claims.liveClaimOf(evidence[2].hex) == tx.return_value


def test_evidence_of_an_invalid_class_is_refused(
    claims, consent, records, policy, hospital, patient, insurer
):
    consent.grant(insurer, CLAIM, 1 << LAB, 0, 0, {"from": patient})
    (valid,) = anchored(records, hospital, patient, 1, LAB)
    odd = new_evidence(200)
    records.anchor(odd.record_hash, odd.leaf(patient), {"from": hospital})  # the registry takes any leaf
    with reverts_with("ClaimInvalidEvidenceClass", repr(bytes(odd.record_hash)), 200):
        submit(claims, policy, 1_000, [valid, odd], patient)
