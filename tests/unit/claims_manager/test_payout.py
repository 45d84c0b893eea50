"""Approved → Paid and pull payouts: payClaim moves the amount from the insurer's reserve to the holder's
credit (anyone may call it); withdrawPayout sends a beneficiary's whole credit to that beneficiary."""

from __future__ import annotations

from claims_helpers import APPROVED, PAID, RESERVE, SUBMITTED, create_policy, money_balanced, submit
from helpers import reverts_with


def _approved(claims, claim_id, insurer, amount=10_000):
    claims.approveClaim(claim_id, amount, {"from": insurer})
    return claim_id


def test_pay_moves_reserve_to_holder_credit(claims, token, claim_id, policy, insurer, patient, stranger):
    _approved(claims, claim_id, insurer)
    tx = claims.payClaim(claim_id, {"from": stranger})
    assert claims.getClaim(claim_id)["status"] == PAID
    account = claims.insurerAccount(insurer)
    assert (account["reserve"], account["owed"]) == (RESERVE - 10_000, 0)
    p = claims.getPolicy(policy)
    assert (p["paid"], p["committed"]) == (10_000, 0)
    assert claims.payoutOf(patient) == 10_000
    assert token.balanceOf(claims) == RESERVE  # nothing left the contract yet
    assert dict(tx.events["ClaimPaid"]) == {
        "claimId": claim_id,
        "insurer": insurer,
        "holder": patient,
        "amount": 10_000,
    }
    ev = tx.events["ClaimStatusChanged"]
    assert (ev["status"], ev["previous"], ev["actor"]) == (PAID, APPROVED, stranger)


def test_pay_partial_approval_pays_approved_amount(claims, claim_id, policy, insurer, patient):
    _approved(claims, claim_id, insurer, 4_000)
    claims.payClaim(claim_id, {"from": patient})
    assert claims.payoutOf(patient) == 4_000
    assert claims.getPolicy(policy)["paid"] == 4_000


def test_pay_twice_reverts(claims, claim_id, insurer, patient):
    _approved(claims, claim_id, insurer)
    claims.payClaim(claim_id, {"from": patient})
    with reverts_with("ClaimUnexpectedStatus", claim_id, PAID, APPROVED):
        claims.payClaim(claim_id, {"from": patient})
    assert claims.payoutOf(patient) == 10_000


def test_pay_unapproved_reverts(claims, claim_id, patient):
    with reverts_with("ClaimUnexpectedStatus", claim_id, SUBMITTED, APPROVED):
        claims.payClaim(claim_id, {"from": patient})


def test_pay_nonexistent_reverts(claims, patient):
    with reverts_with("ClaimNonexistent", 1):
        claims.payClaim(1, {"from": patient})


def test_pay_with_short_reserve_reverts_until_topped_up(claims, token, claim_id, insurer, patient):
    claims.withdrawReserve(RESERVE - 3_000, {"from": insurer})
    _approved(claims, claim_id, insurer)
    with reverts_with("ClaimInsufficientReserve", insurer, 3_000, 10_000):
        claims.payClaim(claim_id, {"from": patient})
    token.mint(insurer, 7_000, {"from": insurer})
    token.approve(claims, 7_000, {"from": insurer})
    claims.depositReserve(insurer, 7_000, {"from": insurer})
    claims.payClaim(claim_id, {"from": patient})
    assert claims.insurerAccount(insurer)["reserve"] == 0


def test_withdraw_payout_transfers_to_beneficiary(claims, token, claim_id, insurer, patient):
    _approved(claims, claim_id, insurer)
    claims.payClaim(claim_id, {"from": patient})
    tx = claims.withdrawPayout(patient, {"from": patient})
    assert tx.return_value == 10_000
    assert token.balanceOf(patient) == 10_000
    assert claims.payoutOf(patient) == 0
    assert dict(tx.events["PayoutWithdrawn"]) == {"beneficiary": patient, "by": patient, "amount": 10_000}


def test_anyone_may_push_payout_but_only_to_beneficiary(claims, token, claim_id, insurer, patient, hospital):
    _approved(claims, claim_id, insurer)
    claims.payClaim(claim_id, {"from": hospital})
    tx = claims.withdrawPayout(patient, {"from": hospital})
    assert token.balanceOf(patient) == 10_000
    assert token.balanceOf(hospital) == 0
    assert tx.events["PayoutWithdrawn"]["by"] == hospital


def test_withdraw_payout_twice_reverts(claims, claim_id, insurer, patient):
    _approved(claims, claim_id, insurer)
    claims.payClaim(claim_id, {"from": patient})
    claims.withdrawPayout(patient, {"from": patient})
    with reverts_with("ClaimNoPayout", patient):
        claims.withdrawPayout(patient, {"from": patient})


def test_withdraw_payout_without_credit_reverts(claims, stranger):
    with reverts_with("ClaimNoPayout", stranger):
        claims.withdrawPayout(stranger, {"from": stranger})


def test_credits_from_two_insurers_add_up(
    claims, token, consent, records, claim_id, insurer, insurer_b, hospital, patient
):
    from claims_helpers import anchored, fund, grant_consent

    fund(token, claims, insurer_b, 50_000)
    grant_consent(consent, patient, insurer_b)
    other = create_policy(claims, insurer_b, patient)
    claim_b = submit(claims, other, 2_500, anchored(records, hospital, patient, 1), patient).return_value
    _approved(claims, claim_id, insurer)
    claims.approveClaim(claim_b, 2_500, {"from": insurer_b})
    claims.payClaim(claim_id, {"from": patient})
    claims.payClaim(claim_b, {"from": patient})
    assert claims.payoutOf(patient) == 12_500
    assert money_balanced(claims, token, [insurer, insurer_b], [patient])
    claims.withdrawPayout(patient, {"from": patient})
    assert token.balanceOf(patient) == 12_500
    assert money_balanced(claims, token, [insurer, insurer_b], [patient])
