"""Insurer reserves: deposits by anyone into an active insurer's reserve, withdrawals of the part not owed."""

from __future__ import annotations

from claims_helpers import RESERVE, role, submit
from helpers import add_operator, reverts_with


def _deposit(claims, token, payer, insurer, amount):
    token.mint(payer, amount, {"from": payer})
    token.approve(claims, amount, {"from": payer})
    return claims.depositReserve(insurer, amount, {"from": payer})


def test_deposit_moves_tokens_into_reserve(claims, token, insurer):
    tx = _deposit(claims, token, insurer, insurer, 5_000)
    assert claims.insurerAccount(insurer)["reserve"] == 5_000
    assert token.balanceOf(claims) == 5_000
    assert token.balanceOf(insurer) == 0
    assert dict(tx.events["ReserveDeposited"]) == {
        "insurer": insurer,
        "from": insurer,
        "amount": 5_000,
        "reserve": 5_000,
    }


def test_deposit_adds_up(claims, token, insurer):
    _deposit(claims, token, insurer, insurer, 5_000)
    tx = _deposit(claims, token, insurer, insurer, 7_000)
    assert tx.events["ReserveDeposited"]["reserve"] == 12_000
    assert claims.withdrawableReserve(insurer) == 12_000


def test_anyone_may_fund_an_insurer(claims, token, stranger, insurer):
    tx = _deposit(claims, token, stranger, insurer, 3_000)
    assert claims.insurerAccount(insurer)["reserve"] == 3_000
    assert tx.events["ReserveDeposited"]["from"] == stranger


def test_deposit_for_non_insurer_reverts(claims, token, insurer, hospital):
    token.mint(insurer, 1, {"from": insurer})
    token.approve(claims, 1, {"from": insurer})
    with reverts_with("ClaimInvalidInsurer", hospital):
        claims.depositReserve(hospital, 1, {"from": insurer})


def test_deposit_for_operator_key_reverts(claims, consortium, token, insurer, operator):
    """Reserves belong to member addresses; an operator key is not one."""
    add_operator(consortium, insurer, operator)
    token.mint(insurer, 1, {"from": insurer})
    token.approve(claims, 1, {"from": insurer})
    with reverts_with("ClaimInvalidInsurer", operator):
        claims.depositReserve(operator, 1, {"from": insurer})


def test_deposit_zero_reverts(claims, insurer):
    with reverts_with("ClaimInvalidAmount", 0):
        claims.depositReserve(insurer, 0, {"from": insurer})


def test_deposit_without_allowance_reverts(claims, token, insurer):
    token.mint(insurer, 10, {"from": insurer})
    with reverts_with("ERC20InsufficientAllowance", claims, 0, 10):
        claims.depositReserve(insurer, 10, {"from": insurer})


def test_withdraw_returns_tokens_to_member(claims, token, insurer):
    _deposit(claims, token, insurer, insurer, 5_000)
    tx = claims.withdrawReserve(2_000, {"from": insurer})
    assert token.balanceOf(insurer) == 2_000
    assert claims.insurerAccount(insurer)["reserve"] == 3_000
    assert dict(tx.events["ReserveWithdrawn"]) == {
        "insurer": insurer,
        "by": insurer,
        "amount": 2_000,
        "reserve": 3_000,
    }


def test_withdraw_by_operator_key_pays_member(claims, consortium, token, insurer, operator):
    _deposit(claims, token, insurer, insurer, 5_000)
    add_operator(consortium, insurer, operator)
    tx = claims.withdrawReserve(5_000, {"from": operator})
    assert token.balanceOf(insurer) == 5_000
    assert token.balanceOf(operator) == 0
    assert tx.events["ReserveWithdrawn"]["by"] == operator


def test_withdraw_more_than_reserve_reverts(claims, token, insurer):
    _deposit(claims, token, insurer, insurer, 5_000)
    with reverts_with("ClaimInsufficientReserve", insurer, 5_000, 5_001):
        claims.withdrawReserve(5_001, {"from": insurer})


def test_withdraw_zero_reverts(claims, insurer):
    with reverts_with("ClaimInvalidAmount", 0):
        claims.withdrawReserve(0, {"from": insurer})


def test_withdraw_by_non_insurer_reverts(claims, hospital):
    with reverts_with("ClaimUnauthorized", hospital, role("INSURER")):
        claims.withdrawReserve(1, {"from": hospital})


def test_withdraw_cannot_touch_owed_amount(claims, policy, claim_id, insurer):
    claims.approveClaim(claim_id, 10_000, {"from": insurer})
    assert claims.withdrawableReserve(insurer) == RESERVE - 10_000
    with reverts_with("ClaimInsufficientReserve", insurer, RESERVE - 10_000, RESERVE):
        claims.withdrawReserve(RESERVE, {"from": insurer})
    claims.withdrawReserve(RESERVE - 10_000, {"from": insurer})
    assert claims.insurerAccount(insurer)["reserve"] == 10_000


def test_pending_claims_do_not_lock_reserve(claims, policy, claim_id, insurer):
    """Only approved amounts are owed; a Submitted claim is not a debt yet."""
    assert claims.withdrawableReserve(insurer) == RESERVE


def test_owed_above_reserve_leaves_nothing_withdrawable(
    claims, token, records, policy, evidence, patient, insurer, hospital
):
    claim = submit(claims, policy, 10_000, evidence, patient).return_value
    claims.withdrawReserve(RESERVE - 4_000, {"from": insurer})
    claims.approveClaim(claim, 10_000, {"from": insurer})
    account = claims.insurerAccount(insurer)
    assert (account["reserve"], account["owed"]) == (4_000, 10_000)
    assert claims.withdrawableReserve(insurer) == 0
    with reverts_with("ClaimInsufficientReserve", insurer, 0, 1):
        claims.withdrawReserve(1, {"from": insurer})
