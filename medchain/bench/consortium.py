"""Consortium rows: governance steps (2-of-2 while measured), the operator key's two steps, and the role
check every other contract makes."""

from __future__ import annotations

from eth_account import Account
from web3.types import Wei

from medchain.addresses import ZERO_ADDRESS as ZERO
from medchain.bench import TX_BASE, BenchContext
from medchain.codes import ROLE_BITS, ROLES
from medchain.tx import send

COLD_CALL, COLD_SLOAD = 2_600, 2_100


def rows(ctx: BenchContext) -> None:
    c = ctx.suite.consortium
    council, hospital, key = ctx.accounts["council"], ctx.accounts["hospital"], ctx.accounts["operator"]

    def proposal_id(receipt: object) -> int:
        return int(c.events.ProposalCreated().process_receipt(receipt)[0]["args"]["proposalId"])

    # a second council member (a local key) and threshold 2, so that approve and a 2-approval execute run
    # (each area gets a fresh chain)
    second = Account.create()
    ctx.w3.eth.send_transaction({"from": council, "to": second.address, "value": Wei(10**18)})
    admit = c.functions.propose(1, second.address, ROLE_BITS["COUNCIL"], "Council 2", "")
    ctx.send(c.functions.execute(proposal_id(ctx.send(admit, council))), council)
    threshold = c.functions.propose(5, ZERO, 2, "", "")
    ctx.send(c.functions.execute(proposal_id(ctx.send(threshold, council))), council)

    newcomer = Account.create().address
    fn = c.functions.propose(1, newcomer, ROLE_BITS["HOSPITAL"], "Hospital C", "https://c.example")
    receipt = ctx.send(fn, council)
    ctx.add("Consortium", "propose (admit, proposer approves)", receipt["gasUsed"],
            note="the proposer's approval is its proposer field: no approver slot")  # fmt: skip
    pid = proposal_id(receipt)
    receipt = send(ctx.w3, c.functions.approve(pid), second)
    ctx.add("Consortium", "approve (second council member)", receipt["gasUsed"],
            floor=TX_BASE + 22_100, note="one fresh approver slot")  # fmt: skip
    receipt = ctx.send(c.functions.execute(pid), council)
    ctx.add("Consortium", "execute admission (2 of 2: both approvers re-checked)", receipt["gasUsed"],
            note="counts approvals of members active COUNCIL now, at most 16 read")  # fmt: skip

    offer = ctx.send(c.functions.offerOperator(key, ZERO), hospital)
    ctx.add("Consortium", "offerOperator (the member)", offer["gasUsed"], floor=TX_BASE + 22_100,
            note="one fresh offer slot")  # fmt: skip
    accept = ctx.send(c.functions.acceptOperator(hospital), key)
    ctx.add("Consortium", "acceptOperator (the key's consent)", accept["gasUsed"], floor=TX_BASE + 22_100,
            note="the key's fresh slot; the offer slot is cleared")  # fmt: skip
    ctx.add("Consortium", "register an operator key (offer + accept)", offer["gasUsed"] + accept["gasUsed"],
            note="two transactions: the member's and the key's")  # fmt: skip
    for label, account in (("member address", hospital), ("operator key", key)):
        gas = c.functions.isAuthorized(account, ROLES["HOSPITAL"]).estimate_gas() - TX_BASE
        reads = 1 if label == "member address" else 2
        ctx.add(
            "Consortium",
            f"isAuthorized on a {label} (tx execution gas, cold)",
            gas,
            floor=reads * COLD_SLOAD,
            note=f"{reads} cold read(s); a contract caller adds a cold call ({COLD_CALL:,})",
        )
