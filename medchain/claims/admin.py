"""Insurer and council administration: issuing policies, the insurer's reserve and its claim settings."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from web3.logs import DISCARD

from medchain import tx
from medchain.chain import Signer, latest_time, signer_address
from medchain.claims.onchain import PolicyInfo, erc20, get_policy, insurer_of
from medchain.contracts import Suite
from medchain.errors import InputError
from medchain.timeparse import parse_time


def policy_window(
    suite: Suite, valid_from: str | None, until: str | None = None, days: int | None = None
) -> tuple[int, int]:
    """A policy's validity window from people's words (see medchain.timeparse; relative times count from the
    chain's clock): `valid_from` (None = now) to `until`, or to `days` days after the start."""
    now = latest_time(suite.w3)
    start = parse_time(valid_from, now, "--from")
    if days is not None:
        return start, parse_time(f"+{days}d", start, "--days")
    if until is None:
        raise InputError("give the end of the policy (--until) or its length (--days)")
    return start, parse_time(until, now, "--until")


def create_policy(
    suite: Suite, signer: Signer, holder: str, coverage: int, valid_from: int, valid_until: int
) -> PolicyInfo:
    """Issue a policy from the signer's insurer; returns it as stored."""
    claims = suite.require("claims")
    receipt = tx.send(
        suite.w3, claims.functions.createPolicy(holder, coverage, valid_from, valid_until), signer
    )
    (event,) = claims.events.PolicyCreated().process_receipt(receipt, errors=DISCARD)
    return get_policy(suite, int(event["args"]["policyId"]))


def reserve_status(suite: Suite, insurer: str) -> dict[str, Any]:
    """An insurer's reserve, debts, withdrawable part and claim settings (amounts in base units)."""
    claims = suite.require("claims")
    reserve, owed, window, threshold = claims.functions.insurerAccount(insurer).call()
    return {
        "insurer": to_checksum_address(insurer),
        "reserve": reserve,
        "owed": owed,
        "withdrawable": claims.functions.withdrawableReserve(insurer).call(),
        "decisionWindow": claims.functions.decisionWindowOf(insurer).call(),
        "dualControlThreshold": threshold,
        "windowSet": window != 0,
    }


def deposit_reserve(suite: Suite, signer: Signer, amount: int, insurer: str | None = None) -> dict[str, Any]:
    """Move `amount` tokens from the signer into `insurer`'s reserve (default: the signer's insurer),
    approving the ClaimsManager for the amount first when the allowance is short."""
    claims = suite.require("claims")
    sender = signer_address(signer)
    insurer = to_checksum_address(insurer) if insurer else insurer_of(suite, sender)
    token = erc20(suite, claims.functions.token().call())
    if token.functions.allowance(sender, claims.address).call() < amount:
        tx.send(suite.w3, token.functions.approve(claims.address, amount), signer)
    tx.send(suite.w3, claims.functions.depositReserve(insurer, amount), signer)
    return reserve_status(suite, insurer)


def withdraw_reserve(suite: Suite, signer: Signer, amount: int) -> dict[str, Any]:
    """Withdraw `amount` of the signer's insurer's reserve (only the part not owed) to its member address."""
    insurer = insurer_of(suite, signer_address(signer))
    tx.send(suite.w3, suite.require("claims").functions.withdrawReserve(amount), signer)
    return reserve_status(suite, insurer)


def release_reserve(suite: Suite, signer: Signer, insurer: str) -> dict[str, Any]:
    """The council releases the withdrawable reserve of an insurer that no longer holds INSURER to that
    insurer (what it owes stays for its approved claims)."""
    insurer = to_checksum_address(insurer)
    tx.send(suite.w3, suite.require("claims").functions.releaseReserve(insurer), signer)
    return reserve_status(suite, insurer)


def set_settings(
    suite: Suite, signer: Signer, decision_window: int, dual_control_threshold: int
) -> dict[str, Any]:
    """Set the signer's (an insurer member address) decision window and dual-control threshold."""
    insurer = insurer_of(suite, signer_address(signer))
    fn = suite.require("claims").functions.setClaimSettings(decision_window, dual_control_threshold)
    tx.send(suite.w3, fn, signer)
    return reserve_status(suite, insurer)
