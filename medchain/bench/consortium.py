"""Consortium rows: governance steps and the role check every other contract makes."""

from __future__ import annotations

from eth_account import Account

from medchain.bench import TX_BASE, BenchContext
from medchain.codes import ROLE_BITS, ROLES

COLD_CALL, COLD_SLOAD = 2_600, 2_100


def rows(ctx: BenchContext) -> None:
    c = ctx.suite.consortium
    council, hospital = ctx.accounts["council"], ctx.accounts["hospital"]
    newcomer = Account.create().address
    fn = c.functions.propose(1, newcomer, ROLE_BITS["HOSPITAL"], "Hospital C", "https://c.example")
    receipt = ctx.send(fn, council)
    ctx.add("Consortium", "propose (admit, proposer approves)", receipt["gasUsed"])
    proposal_id = c.events.ProposalCreated().process_receipt(receipt)[0]["args"]["proposalId"]
    receipt = ctx.send(c.functions.execute(proposal_id), council)
    ctx.add("Consortium", "execute admission", receipt["gasUsed"])
    receipt = ctx.send(c.functions.addOperator(ctx.accounts["operator"]), hospital)
    ctx.add("Consortium", "addOperator", receipt["gasUsed"], floor=TX_BASE + 22_100, note="one fresh slot")
    for label, account in (("member address", hospital), ("operator key", ctx.accounts["operator"])):
        gas = c.functions.isAuthorized(account, ROLES["HOSPITAL"]).estimate_gas() - TX_BASE
        reads = 1 if label == "member address" else 2
        ctx.add(
            "Consortium",
            f"isAuthorized on a {label} (tx execution gas, cold)",
            gas,
            floor=reads * COLD_SLOAD,
            note=f"{reads} cold read(s); a contract caller adds a cold call ({COLD_CALL:,})",
        )
