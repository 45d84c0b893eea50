"""Payouts to policy holders: their credit, approved claims not paid yet, and collecting them (pull
payments)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain import tx
from medchain.chain import Signer, signer_address
from medchain.claims.onchain import ClaimInfo, get_claim
from medchain.contracts import Suite
from medchain.errors import ContractRevert


def _holder_claims(suite: Suite, beneficiary: str, from_block: int) -> list[ClaimInfo]:
    claims = suite.require("claims")
    created = claims.events.PolicyCreated()
    policies = created.get_logs(from_block=from_block, argument_filters={"holder": beneficiary})
    out: list[ClaimInfo] = []
    for policy in policies:
        pid = int(policy["args"]["policyId"])
        submitted = claims.events.ClaimSubmitted()
        for log in submitted.get_logs(from_block=from_block, argument_filters={"policyId": pid}):
            out.append(get_claim(suite, int(log["args"]["claimId"])))
    return sorted(out, key=lambda c: c.id)


def payout_status(suite: Suite, beneficiary: str, from_block: int = 0) -> dict[str, Any]:
    """A beneficiary's payout credit and its Approved claims not paid yet (amounts in base units)."""
    beneficiary = to_checksum_address(beneficiary)
    credit = suite.require("claims").functions.payoutOf(beneficiary).call()
    approved = [c for c in _holder_claims(suite, beneficiary, from_block) if c.status == "Approved"]
    return {"beneficiary": beneficiary, "credit": credit, "approvedUnpaid": [asdict(c) for c in approved]}


def collect_payouts(
    suite: Suite, signer: Signer, beneficiary: str | None = None, from_block: int = 0
) -> dict[str, Any]:
    """Pay the beneficiary's Approved claims whose insurer can cover them, then transfer its whole credit to
    it (default beneficiary: the signer). Claims an insurer cannot pay yet are listed, not fatal."""
    claims = suite.require("claims")
    beneficiary = to_checksum_address(beneficiary or signer_address(signer))
    paid, unpaid = [], []
    for claim in _holder_claims(suite, beneficiary, from_block):
        if claim.status != "Approved":
            continue
        try:
            tx.send(suite.w3, claims.functions.payClaim(claim.id), signer)
            paid.append(claim.id)
        except ContractRevert as exc:
            unpaid.append({"claimId": claim.id, "reason": str(exc)})
    credit = claims.functions.payoutOf(beneficiary).call()
    tx_hash = None
    if credit:
        receipt = tx.send(suite.w3, claims.functions.withdrawPayout(beneficiary), signer)
        tx_hash = Web3.to_hex(receipt["transactionHash"])
    return {
        "beneficiary": beneficiary,
        "paidClaims": paid,
        "unpaid": unpaid,
        "withdrawn": credit,
        "tx": tx_hash,
    }
