"""Deciding claims: approve, reject, escalate, withdraw, pay; rejection reason codes."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from medchain import tx
from medchain.chain import Signer
from medchain.claims.onchain import ClaimInfo, get_claim
from medchain.contracts import Suite


@dataclass(frozen=True)
class Decision:
    claim: ClaimInfo
    outcome: str  # "approved", "awaiting second key", "rejected", "escalated", "withdrawn", "paid"
    tx_hash: str


def approve(suite: Suite, signer: Signer, claim_id: int, amount: int | None = None) -> Decision:
    """Approve a claim for `amount` (default: the whole claimed amount). A Submitted claim is approved by its
    insurer (above the dual-control threshold the first key only records a pending approval); an Escalated
    claim by the council."""
    claims = suite.require("claims")
    claim = get_claim(suite, claim_id)
    amount = claim.amount if amount is None else amount
    escalated = claim.status == "Escalated"
    fn = (claims.functions.approveEscalated if escalated else claims.functions.approveClaim)(claim_id, amount)
    receipt = tx.send(suite.w3, fn, signer)
    done = bool(claims.events.ClaimApproved().process_receipt(receipt, errors=DISCARD))
    return _decision(suite, claim_id, "approved" if done else "awaiting second key", receipt)


def reject(suite: Suite, signer: Signer, claim_id: int, reason: int) -> Decision:
    """Reject a claim with a reason code (insurer for Submitted, council for Escalated claims)."""
    claims = suite.require("claims")
    escalated = get_claim(suite, claim_id).status == "Escalated"
    fn = (claims.functions.rejectEscalated if escalated else claims.functions.rejectClaim)(claim_id, reason)
    return _decision(suite, claim_id, "rejected", tx.send(suite.w3, fn, signer))


def escalate(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Escalate an undecided claim to the council after the insurer's decision window (holder or claimant)."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.escalateClaim(claim_id), signer)
    return _decision(suite, claim_id, "escalated", receipt)


def withdraw(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Withdraw a Submitted or Escalated claim (holder or claimant); its evidence is released."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.withdrawClaim(claim_id), signer)
    return _decision(suite, claim_id, "withdrawn", receipt)


def pay(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Pay an Approved claim into the holder's payout credit (anyone may)."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.payClaim(claim_id), signer)
    return _decision(suite, claim_id, "paid", receipt)


def _decision(suite: Suite, claim_id: int, outcome: str, receipt: TxReceipt) -> Decision:
    return Decision(get_claim(suite, claim_id), outcome, Web3.to_hex(receipt["transactionHash"]))


