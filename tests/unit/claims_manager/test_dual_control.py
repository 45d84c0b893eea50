"""Dual control: above the insurer's threshold an approval needs two distinct keys of that insurer with the
same amount. One key twice is refused; two keys complete it."""

from __future__ import annotations

import pytest
from claims_helpers import APPROVED, DAY, REJECTED, SUBMITTED
from helpers import add_operator, reverts_with

THRESHOLD = 5_000


@pytest.fixture
def dual(claims, consortium, insurer, operator, operator2):
    """Threshold 5,000 for `insurer`, which has two operator keys."""
    claims.setClaimSettings(30 * DAY, THRESHOLD, {"from": insurer})
    add_operator(consortium, insurer, operator)
    add_operator(consortium, insurer, operator2)


def test_first_key_records_pending_approval(claims, dual, claim_id, insurer, operator):
    tx = claims.approveClaim(claim_id, 10_000, {"from": operator})
    assert dict(tx.events["ClaimApprovalPending"]) == {
        "claimId": claim_id,
        "insurer": insurer,
        "key": operator,
        "amount": 10_000,
    }
    assert "ClaimApproved" not in tx.events
    assert "ClaimStatusChanged" not in tx.events
    assert claims.getClaim(claim_id)["status"] == SUBMITTED
    assert tuple(claims.pendingApproval(claim_id)) == (operator, 10_000)
    assert claims.insurerAccount(insurer)["owed"] == 0


def test_same_key_twice_reverts(claims, dual, claim_id, operator):
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    with reverts_with("ClaimDualControlSameKey", claim_id, operator):
        claims.approveClaim(claim_id, 10_000, {"from": operator})
    assert claims.getClaim(claim_id)["status"] == SUBMITTED


def test_second_distinct_key_completes(claims, dual, claim_id, insurer, operator, operator2):
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    tx = claims.approveClaim(claim_id, 10_000, {"from": operator2})
    assert claims.getClaim(claim_id)["status"] == APPROVED
    assert tx.events["ClaimStatusChanged"]["actor"] == operator2
    assert tx.events["ClaimApproved"]["amount"] == 10_000
    assert claims.insurerAccount(insurer)["owed"] == 10_000
    assert tuple(claims.pendingApproval(claim_id)) == ("0x" + "00" * 20, 0)


def test_member_address_counts_as_a_key(claims, dual, claim_id, insurer, operator):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    assert claims.getClaim(claim_id)["status"] == APPROVED


def test_second_key_with_other_amount_reverts(claims, dual, claim_id, operator, operator2):
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    with reverts_with("ClaimDualControlAmountMismatch", claim_id, 10_000, 9_000):
        claims.approveClaim(claim_id, 9_000, {"from": operator2})


def test_amount_at_threshold_needs_one_key(claims, dual, claim_id, operator):
    tx = claims.approveClaim(claim_id, THRESHOLD, {"from": operator})
    assert "ClaimApprovalPending" not in tx.events
    assert claims.getClaim(claim_id)["status"] == APPROVED


def test_other_insurer_key_cannot_be_second(
    claims, dual, consortium, claim_id, insurer, insurer_b, operator, stranger
):
    add_operator(consortium, insurer_b, stranger)
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    with reverts_with("ClaimNotPolicyInsurer", claim_id, stranger, insurer):
        claims.approveClaim(claim_id, 10_000, {"from": stranger})


def test_removed_first_key_no_longer_counts(claims, dual, consortium, claim_id, insurer, operator, operator2):
    """A key removed (e.g. compromised) after its first approval: the next key becomes the first approver."""
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    consortium.removeOperator(operator, {"from": insurer})
    tx = claims.approveClaim(claim_id, 10_000, {"from": operator2})
    assert tx.events["ClaimApprovalPending"]["key"] == operator2
    assert claims.getClaim(claim_id)["status"] == SUBMITTED
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    assert claims.getClaim(claim_id)["status"] == APPROVED


def test_reject_after_pending_approval(claims, dual, claim_id, operator, operator2):
    claims.approveClaim(claim_id, 10_000, {"from": operator})
    claims.rejectClaim(claim_id, 5, {"from": operator2})
    assert claims.getClaim(claim_id)["status"] == REJECTED
    assert tuple(claims.pendingApproval(claim_id)) == ("0x" + "00" * 20, 0)
    with reverts_with("ClaimUnexpectedStatus", claim_id, REJECTED, SUBMITTED):
        claims.approveClaim(claim_id, 10_000, {"from": operator2})


def test_threshold_off_again_single_key(claims, dual, claim_id, insurer, operator):
    claims.setClaimSettings(30 * DAY, 0, {"from": insurer})
    tx = claims.approveClaim(claim_id, 10_000, {"from": operator})
    assert "ClaimApprovalPending" not in tx.events
    assert claims.getClaim(claim_id)["status"] == APPROVED
