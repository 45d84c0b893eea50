"""A malicious settlement token (ReentrantToken) calls back into ClaimsManager in the middle of every
transfer. Nothing it does can pay a claim twice or take out more than was credited."""

from __future__ import annotations

import pytest
from claims_helpers import PAID, RESERVE, create_policy, submit
from helpers import reverts_with

GUARD = "0x3ee5aeb5"  # ReentrancyGuardReentrantCall()


@pytest.fixture(scope="module")
def evil(ReentrantToken, council):
    return ReentrantToken.deploy({"from": council})


@pytest.fixture(scope="module")
def claims(ClaimsManager, consortium, consent, records, evil, council):
    """ClaimsManager settling in the malicious token."""
    return ClaimsManager.deploy(consortium, consent, records, evil, {"from": council})


@pytest.fixture(scope="module")
def token(evil):
    return evil


@pytest.fixture
def paid(claims, evil, claim_id, insurer, patient):
    """claim_id approved and paid: the patient holds a 10,000 credit."""
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    claims.payClaim(claim_id, {"from": patient})
    return claim_id


def test_reentrant_payout_withdrawal_is_refused(claims, evil, paid, patient, insurer):
    evil.arm(claims, claims.withdrawPayout.encode_input(patient), False, {"from": patient})
    claims.withdrawPayout(patient, {"from": patient})
    assert (evil.attempts(), evil.successes()) == (1, 0)
    assert evil.lastError() == GUARD
    assert evil.balanceOf(patient) == 10_000
    assert claims.payoutOf(patient) == 0
    assert evil.balanceOf(claims) == RESERVE - 10_000 == claims.insurerAccount(insurer)["reserve"]


def test_reentrant_payout_withdrawal_bubbling_reverts_whole_tx(claims, evil, paid, patient):
    evil.arm(claims, claims.withdrawPayout.encode_input(patient), True, {"from": patient})
    with reverts_with("ReentrancyGuardReentrantCall"):
        claims.withdrawPayout(patient, {"from": patient})
    assert evil.balanceOf(patient) == 0
    assert claims.payoutOf(patient) == 10_000  # still owed, nothing lost


def test_reentrant_pay_claim_during_withdrawal_cannot_pay_twice(claims, evil, paid, patient, insurer):
    evil.arm(claims, claims.payClaim.encode_input(paid), False, {"from": patient})
    claims.withdrawPayout(patient, {"from": patient})
    assert (evil.attempts(), evil.successes()) == (1, 0)
    assert claims.getClaim(paid)["status"] == PAID
    assert claims.payoutOf(patient) == 0
    assert claims.insurerAccount(insurer)["reserve"] == RESERVE - 10_000


def test_reentrant_reserve_withdrawal_is_refused(claims, evil, paid, insurer, patient):
    """The token re-enters withdrawReserve while the insurer withdraws: refused (guard), balances add up."""
    evil.arm(claims, claims.withdrawReserve.encode_input(1_000), False, {"from": insurer})
    claims.withdrawReserve(5_000, {"from": insurer})
    assert evil.successes() == 0
    assert evil.balanceOf(insurer) == 5_000
    assert evil.balanceOf(claims) == claims.insurerAccount(insurer)["reserve"] + claims.payoutOf(patient)


def test_reentrant_deposit_cannot_double_count(claims, evil, insurer, stranger):
    """During a deposit the token re-enters depositReserve: refused, and only what arrived is credited."""
    evil.mint(stranger, 2_000, {"from": stranger})
    evil.approve(claims, 2_000, {"from": stranger})
    before = claims.insurerAccount(insurer)["reserve"]
    evil.arm(claims, claims.depositReserve.encode_input(insurer, 1_000), False, {"from": stranger})
    claims.depositReserve(insurer, 1_000, {"from": stranger})
    assert evil.successes() == 0
    assert claims.insurerAccount(insurer)["reserve"] == before + 1_000
    assert evil.balanceOf(claims) == before + 1_000


def test_reentrant_payout_drain_attempt_by_attacker_claims(
    claims, evil, consent, records, paid, hospital, patient, patient2, insurer
):
    """Two beneficiaries with credit; re-entering withdrawPayout for the *other* beneficiary is refused too,
    so a payout can never be paid from someone else's credit mid-transfer."""
    from claims_helpers import anchored, grant_consent

    grant_consent(consent, patient2, insurer)
    pid = create_policy(claims, insurer, patient2)
    other = submit(claims, pid, 3_000, anchored(records, hospital, patient2, 1), patient2).return_value
    claims.approveClaim(other, 3_000, {"from": insurer})
    claims.payClaim(other, {"from": patient2})
    evil.arm(claims, claims.withdrawPayout.encode_input(patient2), False, {"from": patient})
    claims.withdrawPayout(patient, {"from": patient})
    assert evil.successes() == 0
    assert (evil.balanceOf(patient), evil.balanceOf(patient2)) == (10_000, 0)
    assert claims.payoutOf(patient2) == 3_000
    evil.disarm({"from": patient})
    claims.withdrawPayout(patient2, {"from": patient2})
    assert evil.balanceOf(claims) == claims.insurerAccount(insurer)["reserve"]
