"""ClaimsManager.rejectClaim: the policy's insurer rejects with a reason code; the amount leaves the policy's
commitment and the evidence is released for another claim."""

from __future__ import annotations

from claims_helpers import COVERAGE, REJECTED, SUBMITTED, b32, create_policy, grant_consent, submit
from helpers import reverts_with


def test_reject_stores_reason_and_status(claims, claim_id, insurer):
    claims.rejectClaim(claim_id, 4, {"from": insurer})
    claim = claims.getClaim(claim_id)
    assert (claim["status"], claim["reason"], claim["amount"]) == (REJECTED, 4, 10_000)


def test_reject_emits_events(claims, claim_id, policy, insurer):
    tx = claims.rejectClaim(claim_id, 4, {"from": insurer})
    assert dict(tx.events["ClaimRejected"]) == {
        "claimId": claim_id,
        "policyId": policy,
        "insurer": insurer,
        "reason": 4,
    }
    ev = tx.events["ClaimStatusChanged"]
    assert (ev["status"], ev["previous"], ev["actor"]) == (REJECTED, SUBMITTED, insurer)


def test_reject_releases_coverage(claims, claim_id, policy, insurer):
    claims.rejectClaim(claim_id, 4, {"from": insurer})
    assert claims.getPolicy(policy)["committed"] == 0
    assert claims.remainingCoverage(policy) == COVERAGE
    assert claims.insurerAccount(insurer)["owed"] == 0


def test_reject_releases_evidence(claims, claim_id, policy, evidence, insurer, patient):
    claims.rejectClaim(claim_id, 4, {"from": insurer})
    assert [claims.liveClaimOf(e.hex) for e in evidence] == [0, 0, 0]
    again = submit(claims, policy, 10_000, evidence, patient).return_value
    assert claims.liveClaimOf(evidence[0].hex) == again


def test_released_evidence_can_back_a_claim_at_another_insurer(
    claims, consent, claim_id, evidence, insurer, insurer_b, patient
):
    claims.rejectClaim(claim_id, 4, {"from": insurer})
    grant_consent(consent, patient, insurer_b)
    other = create_policy(claims, insurer_b, patient)
    again = submit(claims, other, 10_000, evidence, patient).return_value
    assert claims.getClaim(again)["policyId"] == other


def test_resubmitted_evidence_is_guarded_again(claims, claim_id, policy, evidence, insurer, patient):
    claims.rejectClaim(claim_id, 4, {"from": insurer})
    again = submit(claims, policy, 10_000, evidence[:1], patient).return_value
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[0].record_hash), again):
        submit(claims, policy, 10_000, evidence[:1], patient)


def test_reject_with_zero_reason_reverts(claims, claim_id, insurer):
    with reverts_with("ClaimInvalidReason", 0):
        claims.rejectClaim(claim_id, 0, {"from": insurer})


def test_another_insurer_cannot_reject(claims, claim_id, insurer, insurer_b):
    with reverts_with("ClaimNotPolicyInsurer", claim_id, insurer_b, insurer):
        claims.rejectClaim(claim_id, 4, {"from": insurer_b})


def test_holder_cannot_reject(claims, claim_id, insurer, patient):
    with reverts_with("ClaimNotPolicyInsurer", claim_id, patient, insurer):
        claims.rejectClaim(claim_id, 4, {"from": patient})


def test_reject_approved_claim_reverts(claims, claim_id, insurer):
    from claims_helpers import APPROVED

    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    with reverts_with("ClaimUnexpectedStatus", claim_id, APPROVED, SUBMITTED):
        claims.rejectClaim(claim_id, 4, {"from": insurer})


def test_reject_nonexistent_reverts(claims, insurer):
    with reverts_with("ClaimNonexistent", 3):
        claims.rejectClaim(3, 4, {"from": insurer})
