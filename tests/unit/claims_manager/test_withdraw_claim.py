"""ClaimsManager.withdrawClaim: the holder or the submitting hospital withdraws a Submitted or Escalated
claim; coverage and evidence are released."""

from __future__ import annotations

from brownie import chain
from claims_helpers import APPROVED, DEFAULT_WINDOW, ESCALATED, SUBMITTED, WITHDRAWN, submit
from helpers import add_operator, reverts_with


def test_holder_withdraws_own_claim(claims, claim_id, policy, evidence, patient):
    tx = claims.withdrawClaim(claim_id, {"from": patient})
    assert claims.getClaim(claim_id)["status"] == WITHDRAWN
    ev = tx.events["ClaimStatusChanged"]
    assert (ev["claimId"], ev["policyId"], ev["status"], ev["previous"], ev["actor"]) == (
        claim_id,
        policy,
        WITHDRAWN,
        SUBMITTED,
        patient,
    )
    assert claims.getPolicy(policy)["committed"] == 0
    assert [claims.liveClaimOf(e.hex) for e in evidence] == [0, 0, 0]


def test_submitting_hospital_withdraws(claims, policy, evidence, hospital):
    claim = submit(claims, policy, 10_000, evidence, hospital).return_value
    claims.withdrawClaim(claim, {"from": hospital})
    assert claims.getClaim(claim)["status"] == WITHDRAWN


def test_submitting_hospitals_operator_withdraws(claims, consortium, policy, evidence, hospital, operator):
    claim = submit(claims, policy, 10_000, evidence, hospital).return_value
    add_operator(consortium, hospital, operator)
    claims.withdrawClaim(claim, {"from": operator})
    assert claims.getClaim(claim)["status"] == WITHDRAWN


def test_holder_withdraws_claim_a_hospital_submitted(claims, policy, evidence, hospital, patient):
    claim = submit(claims, policy, 10_000, evidence, hospital).return_value
    claims.withdrawClaim(claim, {"from": patient})
    assert claims.getClaim(claim)["status"] == WITHDRAWN


def test_other_hospital_cannot_withdraw(claims, policy, evidence, hospital, hospital_b):
    claim = submit(claims, policy, 10_000, evidence, hospital).return_value
    with reverts_with("ClaimNotClaimant", claim, hospital_b):
        claims.withdrawClaim(claim, {"from": hospital_b})


def test_hospital_cannot_withdraw_holders_own_claim(claims, claim_id, hospital):
    with reverts_with("ClaimNotClaimant", claim_id, hospital):
        claims.withdrawClaim(claim_id, {"from": hospital})


def test_insurer_cannot_withdraw(claims, claim_id, insurer):
    with reverts_with("ClaimNotClaimant", claim_id, insurer):
        claims.withdrawClaim(claim_id, {"from": insurer})


def test_withdraw_escalated_claim(claims, claim_id, patient):
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.escalateClaim(claim_id, {"from": patient})
    tx = claims.withdrawClaim(claim_id, {"from": patient})
    assert tx.events["ClaimStatusChanged"]["previous"] == ESCALATED
    assert claims.getClaim(claim_id)["status"] == WITHDRAWN


def test_withdraw_approved_claim_reverts(claims, claim_id, insurer, patient):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    with reverts_with("ClaimUnexpectedStatus", claim_id, APPROVED, SUBMITTED):
        claims.withdrawClaim(claim_id, {"from": patient})


def test_withdraw_twice_reverts(claims, claim_id, patient):
    claims.withdrawClaim(claim_id, {"from": patient})
    with reverts_with("ClaimUnexpectedStatus", claim_id, WITHDRAWN, SUBMITTED):
        claims.withdrawClaim(claim_id, {"from": patient})


def test_withdraw_nonexistent_reverts(claims, patient):
    with reverts_with("ClaimNonexistent", 9):
        claims.withdrawClaim(9, {"from": patient})
