"""ClaimsManager.approveClaim (single key): the policy's insurer approves 1..claimed; amounts move from the
policy's commitment to the insurer's debt; another insurer, a hospital or the holder cannot decide."""

from __future__ import annotations

import pytest
from claims_helpers import APPROVED, COVERAGE, REJECTED, SUBMITTED, create_policy, submit
from helpers import add_operator, reverts_with


def test_approve_full_amount(claims, claim_id, policy, insurer):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    claim = claims.getClaim(claim_id)
    assert (claim["status"], claim["amount"]) == (APPROVED, 10_000)
    assert claims.insurerAccount(insurer)["owed"] == 10_000
    assert claims.getPolicy(policy)["committed"] == 10_000


def test_approve_emits_status_changed_and_approved(claims, claim_id, policy, insurer):
    tx = claims.approveClaim(claim_id, 10_000, {"from": insurer})
    assert dict(tx.events["ClaimStatusChanged"]) == {
        "claimId": claim_id,
        "policyId": policy,
        "status": APPROVED,
        "previous": SUBMITTED,
        "actor": insurer,
    }
    assert dict(tx.events["ClaimApproved"]) == {
        "claimId": claim_id,
        "policyId": policy,
        "insurer": insurer,
        "amount": 10_000,
        "claimed": 10_000,
    }
    assert "ClaimApprovalPending" not in tx.events


def test_partial_approval_frees_the_rest_of_the_coverage(claims, claim_id, policy, insurer):
    tx = claims.approveClaim(claim_id, 6_000, {"from": insurer})
    assert claims.getClaim(claim_id)["amount"] == 6_000
    assert (tx.events["ClaimApproved"]["amount"], tx.events["ClaimApproved"]["claimed"]) == (6_000, 10_000)
    assert claims.getPolicy(policy)["committed"] == 6_000
    assert claims.remainingCoverage(policy) == COVERAGE - 6_000
    assert claims.insurerAccount(insurer)["owed"] == 6_000


def test_approve_by_operator_key(claims, consortium, claim_id, insurer, operator):
    add_operator(consortium, insurer, operator)
    tx = claims.approveClaim(claim_id, 10_000, {"from": operator})
    assert tx.events["ClaimStatusChanged"]["actor"] == operator
    assert tx.events["ClaimApproved"]["insurer"] == insurer


@pytest.mark.parametrize("amount", [0, 10_001])
def test_approve_outside_one_to_claimed_reverts(claims, claim_id, insurer, amount):
    with reverts_with("ClaimInvalidApprovalAmount", claim_id, amount, 10_000):
        claims.approveClaim(claim_id, amount, {"from": insurer})


def test_another_insurer_cannot_approve_my_claim(claims, claim_id, insurer, insurer_b):
    with reverts_with("ClaimNotPolicyInsurer", claim_id, insurer_b, insurer):
        claims.approveClaim(claim_id, 10_000, {"from": insurer_b})


def test_another_insurers_operator_cannot_approve(claims, consortium, claim_id, insurer, insurer_b, operator):
    add_operator(consortium, insurer_b, operator)
    with reverts_with("ClaimNotPolicyInsurer", claim_id, operator, insurer):
        claims.approveClaim(claim_id, 10_000, {"from": operator})


@pytest.mark.parametrize("who", ["hospital", "patient", "stranger", "council"])
def test_non_insurers_cannot_approve(claims, claim_id, insurer, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("ClaimNotPolicyInsurer", claim_id, account, insurer):
        claims.approveClaim(claim_id, 10_000, {"from": account})


def test_suspended_insurer_cannot_approve(claims, consortium, council, claim_id, insurer):
    from helpers import SUSPEND

    consortium.execute(
        consortium.propose(SUSPEND, insurer, 0, "", "", {"from": council}).return_value, {"from": council}
    )
    with reverts_with("ClaimNotPolicyInsurer", claim_id, insurer, insurer):
        claims.approveClaim(claim_id, 10_000, {"from": insurer})


def test_approve_twice_reverts(claims, claim_id, insurer):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    with reverts_with("ClaimUnexpectedStatus", claim_id, APPROVED, SUBMITTED):
        claims.approveClaim(claim_id, 10_000, {"from": insurer})


def test_approve_rejected_claim_reverts(claims, claim_id, insurer):
    claims.rejectClaim(claim_id, 1, {"from": insurer})
    with reverts_with("ClaimUnexpectedStatus", claim_id, REJECTED, SUBMITTED):
        claims.approveClaim(claim_id, 1, {"from": insurer})


def test_approve_nonexistent_claim_reverts(claims, policy, insurer):
    with reverts_with("ClaimNonexistent", 5):
        claims.approveClaim(5, 1, {"from": insurer})


def test_approval_needs_no_reserve(claims, token, consent, records, insurer_b, hospital, patient):
    """An approval is a decision; the unfunded insurer owes the amount and payClaim waits for funds."""
    from claims_helpers import anchored, grant_consent

    grant_consent(consent, patient, insurer_b)
    pid = create_policy(claims, insurer_b, patient)
    claim = submit(claims, pid, 500, anchored(records, hospital, patient, 1), patient).return_value
    claims.approveClaim(claim, 500, {"from": insurer_b})
    account = claims.insurerAccount(insurer_b)
    assert (account["reserve"], account["owed"]) == (0, 500)
