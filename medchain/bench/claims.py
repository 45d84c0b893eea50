"""ClaimsManager rows on the real ConsentRegistry and RecordRegistry: submit with 1 / 3 / 10 evidence records,
approve, approve under dual control, pay, payout withdrawal — each beside its storage floor."""

from __future__ import annotations

import os

from medchain.addresses import ZERO_ADDRESS
from medchain.bench import TX_BASE, BenchContext
from medchain.codes import DATA_CLASSES, PURPOSES, parse_classes
from medchain.hashing import patient_commitment, record_leaf

AREA = "ClaimsManager"
FRESH_SLOT, DIRTY_SLOT = 22_100, 5_000
LAB = DATA_CLASSES["LAB"]


def submit_floor(n: int) -> int:
    """Two fresh claim slots, one fresh duplicate-guard slot per record, counter and policy total updates."""
    return TX_BASE + (2 + n) * FRESH_SLOT + 2 * DIRTY_SLOT


def rows(ctx: BenchContext) -> None:
    suite, a = ctx.suite, ctx.accounts
    claims, records, consent = suite.require("claims"), suite.require("records"), suite.require("consent")
    token = suite.require("token")
    patient, hospital, insurer = a["stranger"], a["hospital"], a["insurer"]
    now = int(ctx.w3.eth.get_block("latest")["timestamp"])
    ctx.send(consent.functions.grant(insurer, PURPOSES["CLAIM"], parse_classes("ALL"), 0, 0), patient)
    receipt = ctx.send(claims.functions.createPolicy(patient, 10**15, now - 1, now + 10**7), insurer)
    policy = claims.events.PolicyCreated().process_receipt(receipt)[0]["args"]["policyId"]
    ctx.send(token.functions.mint(insurer, 10**15), insurer)
    ctx.send(token.functions.approve(claims.address, 10**15), insurer)
    ctx.send(claims.functions.depositReserve(insurer, 10**15), insurer)

    def evidence(n: int) -> list[tuple[bytes, bytes, int]]:
        items = []
        for _ in range(n):
            record_hash, salt = os.urandom(32), os.urandom(32)  # one salt per record (DESIGN §6.3 v2)
            leaf = record_leaf(record_hash, patient_commitment(patient, salt), LAB)
            ctx.send(records.functions.anchor(record_hash, leaf), hospital)
            items.append((record_hash, salt, LAB))
        return items

    def submit(n: int, sender: str) -> tuple[int, int]:
        fn = claims.functions.submitClaim(policy, 10_000, evidence(n), bytes(32), os.urandom(32))
        receipt = ctx.send(fn, sender)
        claim_id = claims.events.ClaimSubmitted().process_receipt(receipt)[0]["args"]["claimId"]
        return int(claim_id), int(receipt["gasUsed"])

    submit(1, patient)  # warm the claim counter and the policy's committed total
    for n in (1, 3, 10):
        _, gas = submit(n, hospital)
        target = 200_000 if n == 3 else None
        ctx.add(AREA, f"submitClaim by a hospital, {n} evidence record(s)", gas, floor=submit_floor(n),
                target=target, note="consent + commitment + anchoring checked per record")  # fmt: skip
    first, _ = submit(1, patient)
    receipt = ctx.send(claims.functions.approveClaim(first, 10_000), insurer)
    ctx.add(AREA, "approveClaim (one key)", receipt["gasUsed"])
    ctx.send(claims.functions.setClaimSettings(7 * 86400, 5_000), insurer)
    for key in (a["operator"], a["operator2"]):  # the insurer offers, each key accepts
        ctx.send(suite.consortium.functions.offerOperator(key, ZERO_ADDRESS), insurer)
        ctx.send(suite.consortium.functions.acceptOperator(insurer), key)
    dual, _ = submit(1, patient)
    r1 = ctx.send(claims.functions.approveClaim(dual, 10_000), a["operator"])
    r2 = ctx.send(claims.functions.approveClaim(dual, 10_000), a["operator2"])
    ctx.add(AREA, "approveClaim under dual control (both keys)", r1["gasUsed"] + r2["gasUsed"],
            note=f"first key {r1['gasUsed']:,} + second key {r2['gasUsed']:,}")  # fmt: skip
    receipt = ctx.send(claims.functions.payClaim(first), hospital)
    ctx.add(AREA, "payClaim (holder's first credit)", receipt["gasUsed"], floor=TX_BASE + FRESH_SLOT)
    receipt = ctx.send(claims.functions.withdrawPayout(patient), hospital)
    ctx.add(AREA, "withdrawPayout (relayed; tokens go to the holder)", receipt["gasUsed"])
