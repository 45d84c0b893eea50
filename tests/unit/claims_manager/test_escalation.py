"""Decision window and escalation: the claimant escalates an undecided claim after the insurer's window; the
council (not the insurer) then approves or rejects it."""

from __future__ import annotations

from brownie import chain
from claims_helpers import APPROVED, DAY, DEFAULT_WINDOW, ESCALATED, REJECTED, SUBMITTED, role, submit
from helpers import reverts_with


def _escalated(claims, claim_id, patient):
    chain.sleep(DEFAULT_WINDOW + 1)
    return claims.escalateClaim(claim_id, {"from": patient})


def test_escalate_after_window(claims, claim_id, policy, patient):
    tx = _escalated(claims, claim_id, patient)
    assert claims.getClaim(claim_id)["status"] == ESCALATED
    ev = tx.events["ClaimStatusChanged"]
    assert (ev["claimId"], ev["policyId"], ev["status"], ev["previous"], ev["actor"]) == (
        claim_id,
        policy,
        ESCALATED,
        SUBMITTED,
        patient,
    )


def test_escalate_inside_window_reverts(claims, claim_id, patient):
    decide_by = claims.getClaim(claim_id)["decideBy"]
    with reverts_with("ClaimDecisionWindowOpen", claim_id, decide_by):
        claims.escalateClaim(claim_id, {"from": patient})


def test_escalate_uses_window_at_submission(claims, policy, evidence, insurer, patient):
    """Lengthening the window later does not delay claims already submitted."""
    claims.setClaimSettings(2 * DAY, 0, {"from": insurer})
    claim = submit(claims, policy, 10_000, evidence, patient).return_value
    claims.setClaimSettings(300 * DAY, 0, {"from": insurer})
    chain.sleep(2 * DAY + 1)
    claims.escalateClaim(claim, {"from": patient})
    assert claims.getClaim(claim)["status"] == ESCALATED


def test_submitting_hospital_escalates(claims, policy, evidence, hospital):
    claim = submit(claims, policy, 10_000, evidence, hospital).return_value
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.escalateClaim(claim, {"from": hospital})
    assert claims.getClaim(claim)["status"] == ESCALATED


def test_stranger_cannot_escalate(claims, claim_id, stranger):
    chain.sleep(DEFAULT_WINDOW + 1)
    with reverts_with("ClaimNotClaimant", claim_id, stranger):
        claims.escalateClaim(claim_id, {"from": stranger})


def test_insurer_cannot_escalate(claims, claim_id, insurer):
    chain.sleep(DEFAULT_WINDOW + 1)
    with reverts_with("ClaimNotClaimant", claim_id, insurer):
        claims.escalateClaim(claim_id, {"from": insurer})


def test_escalate_decided_claim_reverts(claims, claim_id, insurer, patient):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    chain.sleep(DEFAULT_WINDOW + 1)
    with reverts_with("ClaimUnexpectedStatus", claim_id, APPROVED, SUBMITTED):
        claims.escalateClaim(claim_id, {"from": patient})


def test_insurer_may_still_decide_late_before_escalation(claims, claim_id, insurer):
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    assert claims.getClaim(claim_id)["status"] == APPROVED


def test_insurer_cannot_decide_escalated_claim(claims, claim_id, insurer, patient):
    _escalated(claims, claim_id, patient)
    with reverts_with("ClaimUnexpectedStatus", claim_id, ESCALATED, SUBMITTED):
        claims.approveClaim(claim_id, 10_000, {"from": insurer})
    with reverts_with("ClaimUnexpectedStatus", claim_id, ESCALATED, SUBMITTED):
        claims.rejectClaim(claim_id, 2, {"from": insurer})


def test_council_approves_escalated_claim(claims, claim_id, policy, insurer, patient, council):
    _escalated(claims, claim_id, patient)
    tx = claims.approveEscalated(claim_id, 8_000, {"from": council})
    claim = claims.getClaim(claim_id)
    assert (claim["status"], claim["amount"]) == (APPROVED, 8_000)
    assert tx.events["ClaimStatusChanged"]["actor"] == council
    assert tx.events["ClaimStatusChanged"]["previous"] == ESCALATED
    assert dict(tx.events["ClaimApproved"]) == {
        "claimId": claim_id,
        "policyId": policy,
        "insurer": insurer,
        "amount": 8_000,
        "claimed": 10_000,
    }
    assert claims.insurerAccount(insurer)["owed"] == 8_000
    assert claims.getPolicy(policy)["committed"] == 8_000


def test_council_approval_ignores_dual_control(claims, claim_id, insurer, patient, council):
    claims.setClaimSettings(DEFAULT_WINDOW, 1, {"from": insurer})
    _escalated(claims, claim_id, patient)
    tx = claims.approveEscalated(claim_id, 10_000, {"from": council})
    assert "ClaimApprovalPending" not in tx.events
    assert claims.getClaim(claim_id)["status"] == APPROVED


def test_council_rejects_escalated_claim(claims, claim_id, policy, evidence, insurer, patient, council):
    _escalated(claims, claim_id, patient)
    tx = claims.rejectEscalated(claim_id, 7, {"from": council})
    assert (claims.getClaim(claim_id)["status"], claims.getClaim(claim_id)["reason"]) == (REJECTED, 7)
    assert tx.events["ClaimRejected"]["insurer"] == insurer
    assert claims.getPolicy(policy)["committed"] == 0
    assert claims.liveClaimOf(evidence[0].hex) == 0


def test_non_council_cannot_decide_escalated(claims, claim_id, patient, insurer, auditor):
    _escalated(claims, claim_id, patient)
    for account in (insurer, auditor, patient):
        with reverts_with("ClaimUnauthorized", account, role("COUNCIL")):
            claims.approveEscalated(claim_id, 1, {"from": account})
        with reverts_with("ClaimUnauthorized", account, role("COUNCIL")):
            claims.rejectEscalated(claim_id, 1, {"from": account})


def test_council_cannot_decide_unescalated_claim(claims, claim_id, council):
    with reverts_with("ClaimUnexpectedStatus", claim_id, SUBMITTED, ESCALATED):
        claims.approveEscalated(claim_id, 1, {"from": council})
    with reverts_with("ClaimUnexpectedStatus", claim_id, SUBMITTED, ESCALATED):
        claims.rejectEscalated(claim_id, 1, {"from": council})


def test_council_approval_amount_bounds(claims, claim_id, patient, council):
    _escalated(claims, claim_id, patient)
    with reverts_with("ClaimInvalidApprovalAmount", claim_id, 10_001, 10_000):
        claims.approveEscalated(claim_id, 10_001, {"from": council})
    with reverts_with("ClaimInvalidReason", 0):
        claims.rejectEscalated(claim_id, 0, {"from": council})


def test_escalated_claim_still_holds_evidence_and_coverage(claims, claim_id, policy, evidence, patient):
    _escalated(claims, claim_id, patient)
    assert claims.liveClaimOf(evidence[0].hex) == claim_id
    assert claims.getPolicy(policy)["committed"] == 10_000
