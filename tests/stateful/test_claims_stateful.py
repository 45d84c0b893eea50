"""Stateful test: ClaimsManager against a Python model, on the real ConsentRegistry and RecordRegistry.

Rules cover policies, deposits, reserve withdrawals, submissions (by the holder or a hospital, with valid,
foreign or already-claimed evidence), consent changes, decisions (single key and dual control), rejections,
withdrawals, escalation and council decisions, payments, payout withdrawals and the passing of time. Each
rule predicts from the model which custom error (if any) the contract must raise; an accepted call updates the
model.
Invariants after every step:
- token.balanceOf(claims) == Σ reserves + Σ payout credits (and equals the model's money);
- no claim is paid twice (ClaimPaid at most once per claim id); credits == Σ paid amounts not yet withdrawn;
- per policy: paid ≤ coverage and paid + committed ≤ coverage (and equal to the model);
- an evidence record backs at most one live claim, and liveClaimOf names it.
hypothesis' RuleBasedStateMachine is used directly (brownie 1.22.2's state_machine helper is broken); every
run starts from the same seeded chain snapshot. MEDCHAIN_PROFILE=long runs more and longer examples.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from brownie import chain
from eth_abi import encode
from eth_utils import keccak
from helpers import add_operator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from medchain.hashing import record_leaf
from medchain.reverts import decode_revert

LONG = os.environ.get("MEDCHAIN_PROFILE") == "long"
SETTINGS = settings(
    derandomize=not LONG,  # CI: the same sequences every run (a red CI is a regression); long: random
    max_examples=150 if LONG else 15,
    stateful_step_count=60 if LONG else 30,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

SUBMITTED, APPROVED, REJECTED, WITHDRAWN, ESCALATED, PAID = 1, 2, 3, 4, 5, 6
LIVE = {SUBMITTED, APPROVED, ESCALATED, PAID}
CLAIM, LAB = 2, 3
ALL_CLASSES = (1 << 11) - 1
DAY = 24 * 3600
POOL = 8  # anchored records per holder
DUAL_THRESHOLD = 20_000  # insurer A's dual-control threshold; insurer B has none
MARGIN = 15  # seconds: steps this close to a time boundary are skipped (the next block's time is not exact)


@dataclass
class PolicyM:
    id: int
    holder: str
    insurer: str
    coverage: int
    valid_until: int
    paid: int = 0
    committed: int = 0


@dataclass
class ClaimM:
    id: int
    policy: PolicyM
    claimant: str
    amount: int
    records: list[bytes]
    decide_by: int
    status: int = SUBMITTED


@dataclass
class Model:
    reserve: Counter = field(default_factory=Counter)
    owed: Counter = field(default_factory=Counter)
    payouts: Counter = field(default_factory=Counter)
    policies: list[PolicyM] = field(default_factory=list)
    claims: dict[int, ClaimM] = field(default_factory=dict)
    pending: dict[int, tuple[str, int]] = field(default_factory=dict)
    consent: dict[tuple[str, str], bool] = field(default_factory=dict)
    paid_events: Counter = field(default_factory=Counter)

    def live_claim(self, record: bytes) -> int:
        ids = [c.id for c in self.claims.values() if c.status in LIVE and record in c.records]
        assert len(ids) <= 1, f"record backs {len(ids)} live claims"
        return ids[0] if ids else 0


def _commitment(holder: str, salt: bytes) -> bytes:
    return keccak(encode(["address", "bytes32"], [holder, salt]))


def test_claims_ledger_matches_model(
    module_isolation: Any,  # first: the chain is reset before `consortium` is deployed, not after
    SettlementToken: Any,
    ConsentRegistry: Any,
    RecordRegistry: Any,
    ClaimsManager: Any,
    consortium: Any,
    accounts: Any,
    web3: Any,
) -> None:
    council, hospital, insurer_a, insurer_b, operator = (accounts[i] for i in (0, 3, 5, 6, 11))
    holders = [accounts[14], accounts[15]]
    token = SettlementToken.deploy({"from": council})
    consent = ConsentRegistry.deploy(consortium, {"from": council})
    records = RecordRegistry.deploy(consortium, consent, {"from": council})
    deployed = ClaimsManager.deploy(consortium, consent, records, token, {"from": council})
    add_operator(consortium, insurer_a, operator)
    deployed.setClaimSettings(10 * DAY, DUAL_THRESHOLD, {"from": insurer_a})
    insurers = [str(insurer_a), str(insurer_b)]
    keys = {str(insurer_a): [str(insurer_a), str(operator)], str(insurer_b): [str(insurer_b)]}
    window = {str(insurer_a): 10 * DAY, str(insurer_b): 30 * DAY}
    for ins in insurers:
        token.mint(ins, 10**12, {"from": ins})
        token.approve(deployed, 2**256 - 1, {"from": ins})
        for h in holders:
            consent.grant(ins, CLAIM, ALL_CLASSES, 0, 0, {"from": h})
    pool: dict[str, list[tuple[bytes, bytes]]] = {}  # holder -> [(recordHash, salt)]
    for n, h in enumerate(holders):
        pool[str(h)] = []
        for i in range(POOL):
            record, salt = keccak(text=f"record {n}/{i}"), keccak(text=f"salt {n}/{i}")
            leaf = record_leaf(record, _commitment(str(h), salt), LAB)  # one salt per record (§6.3 v2)
            records.anchor(record, leaf, {"from": hospital})
            pool[str(h)].append((record, salt))
    everyone_records = [r for h in pool for r, _ in pool[h]]
    # seed (every example starts here): both insurers funded, a policy per (insurer, holder), one large claim
    seed_policies: list[tuple[int, str, str, int]] = []  # (id, holder, insurer, validUntil)
    for ins in insurers:
        deployed.depositReserve(ins, 60_000, {"from": ins})
        for h in holders:
            start = chain[-1].timestamp
            tx = deployed.createPolicy(h, 50_000, start, start + 400 * DAY, {"from": ins})
            seed_policies.append((tx.return_value, str(h), ins, start + 400 * DAY))
    seed_record = pool[str(holders[0])][0]
    tx = deployed.submitClaim(1, 30_000, [(*seed_record, LAB)], b"\0" * 32, b"\0" * 32, {"from": holders[0]})
    seed_decide_by = tx.timestamp + window[insurers[0]]
    claims = web3.eth.contract(address=deployed.address, abi=deployed.abi)  # plain web3: fast calls
    erc20 = web3.eth.contract(address=token.address, abi=token.abi)
    chain.snapshot()

    def seeded_model() -> Model:
        m = Model(consent={(str(h), i): True for h in holders for i in insurers})
        m.reserve.update({i: 60_000 for i in insurers})
        m.policies = [PolicyM(pid, h, i, 50_000, until) for pid, h, i, until in seed_policies]
        m.claims[1] = ClaimM(1, m.policies[0], str(holders[0]), 30_000, [seed_record[0]], seed_decide_by)
        m.policies[0].committed = 30_000
        return m

    def now() -> int:
        return int(web3.eth.get_block("latest")["timestamp"])

    def send(expected: str | None, fn: Any, sender: str) -> Any:
        """Send `fn`; it must succeed when `expected` is None, else revert with that custom error."""
        if expected is not None:
            with pytest.raises((ContractLogicError, ValueError)) as info:
                fn.transact({"from": sender})
            exc = info.value
            decoded = next(
                (d for d in (decode_revert(c) for c in (getattr(exc, "data", None), *exc.args)) if d), None
            )
            assert decoded is not None and decoded.name == expected, (expected, exc)
            return None
        receipt = web3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt.status == 1
        return receipt

    class ClaimsMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            chain.revert()
            self.m = seeded_model()

        def teardown(self) -> None:
            chain.revert()

        # ---- helpers ----

        def _claim(self, data: Any, *likely: int) -> ClaimM | None:
            """Mostly a claim in one of the `likely` statuses (the step can succeed), sometimes any claim."""
            if not self.m.claims:
                return None
            fitting = sorted(c.id for c in self.m.claims.values() if c.status in likely)
            if fitting and data.draw(st.integers(min_value=0, max_value=3), label="any claim?") < 3:
                return self.m.claims[data.draw(st.sampled_from(fitting), label="claim")]
            return self.m.claims[data.draw(st.sampled_from(sorted(self.m.claims)), label="claim")]

        def _paid_events(self, receipt: Any) -> None:
            for log in claims.events.ClaimPaid().process_receipt(receipt, errors=DISCARD):
                self.m.paid_events[log["args"]["claimId"]] += 1

        # ---- money ----

        @rule(ins=st.sampled_from(insurers), amount=st.integers(min_value=1, max_value=200_000))
        def deposit(self, ins: str, amount: int) -> None:
            send(None, claims.functions.depositReserve(ins, amount), ins)
            self.m.reserve[ins] += amount

        @rule(ins=st.sampled_from(insurers), part=st.sampled_from([1, 2, 4, 0, 5]))
        def withdraw_reserve(self, ins: str, part: int) -> None:
            available = max(self.m.reserve[ins] - self.m.owed[ins], 0)
            amount = available * part // 4  # part 5: more than available
            expected = None
            if amount == 0:
                expected = "ClaimInvalidAmount"
            elif amount > available:
                expected = "ClaimInsufficientReserve"
            send(expected, claims.functions.withdrawReserve(amount), ins)
            if expected is None:
                self.m.reserve[ins] -= amount

        @rule(holder=st.sampled_from([str(h) for h in holders]), by_hospital=st.booleans())
        def withdraw_payout(self, holder: str, by_hospital: bool) -> None:
            credit = self.m.payouts[holder]
            send(
                None if credit else "ClaimNoPayout",
                claims.functions.withdrawPayout(holder),
                str(hospital) if by_hospital else holder,
            )
            self.m.payouts[holder] = 0

        # ---- policies and consent ----

        @rule(
            ins=st.sampled_from(insurers),
            holder=st.sampled_from([str(h) for h in holders]),
            coverage=st.sampled_from([20_000, 50_000, 120_000]),
            days=st.sampled_from([3, 45, 400]),
        )
        def create_policy(self, ins: str, holder: str, coverage: int, days: int) -> None:
            start = now()
            receipt = send(
                None, claims.functions.createPolicy(holder, coverage, start, start + days * DAY), ins
            )
            pid = claims.events.PolicyCreated().process_receipt(receipt)[0]["args"]["policyId"]
            self.m.policies.append(PolicyM(pid, holder, ins, coverage, start + days * DAY))

        @rule(holder=st.sampled_from([str(h) for h in holders]), ins=st.sampled_from(insurers))
        def toggle_consent(self, holder: str, ins: str) -> None:
            if self.m.consent[(holder, ins)]:
                consent.revoke(ins, CLAIM, {"from": holder})
            else:
                consent.grant(ins, CLAIM, ALL_CLASSES, 0, 0, {"from": holder})
            self.m.consent[(holder, ins)] = not self.m.consent[(holder, ins)]

        # ---- submission ----

        @rule(
            data=st.data(),
            by_hospital=st.booleans(),
            amount=st.one_of(
                st.integers(min_value=1, max_value=20_000), st.integers(min_value=0, max_value=70_000)
            ),
            picks=st.lists(st.integers(min_value=0, max_value=POOL), min_size=1, max_size=3),
        )
        def submit(self, data: Any, by_hospital: bool, amount: int, picks: list[int]) -> None:
            if not self.m.policies:
                return
            p = data.draw(st.sampled_from(self.m.policies), label="policy")
            t = now()
            if abs(t - p.valid_until) <= MARGIN:
                return
            other = next(h for h in pool if h != p.holder)
            evidence = [pool[p.holder][i] if i < POOL else pool[other][0] for i in picks]
            new_id = len(self.m.claims) + 1
            expected = self._submit_error(p, t, amount, picks, evidence)
            fn = claims.functions.submitClaim(
                p.id, amount, [(r, s, LAB) for r, s in evidence], b"\0" * 32, b"\0" * 32
            )
            receipt = send(expected, fn, str(hospital) if by_hospital else p.holder)
            if expected is None:
                ts = web3.eth.get_block(receipt["blockNumber"])["timestamp"]
                claimant = str(hospital) if by_hospital else p.holder
                self.m.claims[new_id] = ClaimM(
                    new_id, p, claimant, amount, [r for r, _ in evidence], ts + window[p.insurer]
                )
                p.committed += amount

        def _submit_error(
            self, p: PolicyM, t: int, amount: int, picks: list[int], evidence: list
        ) -> str | None:
            if t > p.valid_until:
                return "ClaimPolicyInactive"
            if amount == 0:
                return "ClaimInvalidAmount"
            if amount > p.coverage - p.paid - p.committed:
                return "ClaimCoverageExceeded"
            seen: set[bytes] = set()
            for i, (record, _) in zip(picks, evidence, strict=True):
                if i == POOL:
                    return "ClaimEvidenceNotAnchored"
                if self.m.live_claim(record) or record in seen:
                    return "ClaimEvidenceAlreadyClaimed"
                seen.add(record)
            if not self.m.consent[(p.holder, p.insurer)]:
                return "ClaimConsentMissing"
            return None

        # ---- decisions ----

        @rule(
            data=st.data(),
            key_i=st.integers(min_value=0, max_value=9),  # 9: a key of the other insurer
            how=st.sampled_from(["full", "full", "full", "half", "half", "over"]),
        )
        def approve(self, data: Any, key_i: int, how: str) -> None:
            c = self._claim(data, SUBMITTED)
            if c is None:
                return
            ins = c.policy.insurer
            other = next(i for i in insurers if i != ins)
            key = other if key_i == 9 else keys[ins][key_i % len(keys[ins])]
            amount = {"full": c.amount, "half": max(c.amount // 2, 1), "over": c.amount + 1}[how]
            expected, completes = None, True
            if key not in keys[ins]:
                expected = "ClaimNotPolicyInsurer"
            elif c.status != SUBMITTED:
                expected = "ClaimUnexpectedStatus"
            elif amount > c.amount:
                expected = "ClaimInvalidApprovalAmount"
            elif ins == str(insurer_a) and amount > DUAL_THRESHOLD:
                pending = self.m.pending.get(c.id)
                if pending is None:
                    completes = False
                elif pending[0] == key:
                    expected = "ClaimDualControlSameKey"
                elif pending[1] != amount:
                    expected = "ClaimDualControlAmountMismatch"
            send(expected, claims.functions.approveClaim(c.id, amount), key)
            if expected is not None:
                return
            if not completes:
                self.m.pending[c.id] = (key, amount)
                return
            self.m.pending.pop(c.id, None)
            self._approved(c, amount)

        def _approved(self, c: ClaimM, amount: int) -> None:
            c.policy.committed -= c.amount - amount
            c.amount, c.status = amount, APPROVED
            self.m.owed[c.policy.insurer] += amount

        @rule(
            data=st.data(),
            variant=st.integers(min_value=0, max_value=9),
            reason=st.sampled_from([1, 2, 3, 0]),
        )
        def reject(self, data: Any, variant: int, reason: int) -> None:
            wrong_insurer = variant == 9
            c = self._claim(data, SUBMITTED)
            if c is None:
                return
            key = next(i for i in insurers if (i != c.policy.insurer) == wrong_insurer)
            expected = None
            if wrong_insurer:
                expected = "ClaimNotPolicyInsurer"
            elif reason == 0:
                expected = "ClaimInvalidReason"
            elif c.status != SUBMITTED:
                expected = "ClaimUnexpectedStatus"
            send(expected, claims.functions.rejectClaim(c.id, reason), key)
            if expected is None:
                self._released(c, REJECTED)

        def _released(self, c: ClaimM, status: int) -> None:
            c.policy.committed -= c.amount
            c.status = status
            self.m.pending.pop(c.id, None)

        @rule(data=st.data(), by_hospital=st.booleans())
        def withdraw_claim(self, data: Any, by_hospital: bool) -> None:
            c = self._claim(data, SUBMITTED, ESCALATED)
            if c is None:
                return
            sender = str(hospital) if by_hospital else c.policy.holder
            expected = None
            if by_hospital and c.claimant != str(hospital):
                expected = "ClaimNotClaimant"
            elif c.status not in (SUBMITTED, ESCALATED):
                expected = "ClaimUnexpectedStatus"
            send(expected, claims.functions.withdrawClaim(c.id), sender)
            if expected is None:
                self._released(c, WITHDRAWN)

        @rule(data=st.data())
        def escalate(self, data: Any) -> None:
            c = self._claim(data, SUBMITTED)
            if c is None:
                return
            t = now()
            if abs(t - c.decide_by) <= MARGIN:
                return
            expected = None
            if c.status != SUBMITTED:
                expected = "ClaimUnexpectedStatus"
            elif t <= c.decide_by:
                expected = "ClaimDecisionWindowOpen"
            send(expected, claims.functions.escalateClaim(c.id), c.policy.holder)
            if expected is None:
                c.status = ESCALATED
                self.m.pending.pop(c.id, None)

        @rule(data=st.data(), approve=st.booleans(), half=st.booleans())
        def council_decides(self, data: Any, approve: bool, half: bool) -> None:
            c = self._claim(data, ESCALATED)
            if c is None:
                return
            expected = None if c.status == ESCALATED else "ClaimUnexpectedStatus"
            if approve:
                amount = max(c.amount // 2, 1) if half else c.amount
                send(expected, claims.functions.approveEscalated(c.id, amount), str(council))
                if expected is None:
                    self._approved(c, amount)
            else:
                send(expected, claims.functions.rejectEscalated(c.id, 6), str(council))
                if expected is None:
                    self._released(c, REJECTED)

        @rule(data=st.data())
        def pay(self, data: Any) -> None:
            c = self._claim(data, APPROVED)
            if c is None:
                return
            ins = c.policy.insurer
            expected = None
            if c.status != APPROVED:
                expected = "ClaimUnexpectedStatus"
            elif self.m.reserve[ins] < c.amount:
                expected = "ClaimInsufficientReserve"
            receipt = send(expected, claims.functions.payClaim(c.id), str(hospital))
            if expected is None:
                self._paid_events(receipt)
                c.status = PAID
                self.m.reserve[ins] -= c.amount
                self.m.owed[ins] -= c.amount
                c.policy.committed -= c.amount
                c.policy.paid += c.amount
                self.m.payouts[c.policy.holder] += c.amount

        # ---- time ----

        @rule(hours=st.sampled_from([1, 5 * 24, 11 * 24, 31 * 24]))
        def sleep(self, hours: int) -> None:
            chain.sleep(hours * 3600)
            chain.mine()

        # ---- invariants (one JSON-RPC batch per step) ----

        def _read_chain(self) -> dict[str, list[Any]]:
            f = claims.functions
            reads: dict[str, list[Any]] = {
                "balance": [erc20.functions.balanceOf(claims.address)],
                "accounts": [f.insurerAccount(i) for i in insurers],
                "payouts": [f.payoutOf(str(h)) for h in holders],
                "count": [f.claimCount()],
                "claims": [f.getClaim(cid) for cid in sorted(self.m.claims)],
                "policies": [f.getPolicy(p.id) for p in self.m.policies],
                "live": [f.liveClaimOf(r) for r in everyone_records],
            }
            with web3.batch_requests() as batch:
                for calls in reads.values():
                    for call in calls:
                        batch.add(call)
                results = iter(batch.execute())
            return {name: [next(results) for _ in calls] for name, calls in reads.items()}

        @invariant()
        def ledger_matches_model(self) -> None:
            r = self._read_chain()
            m = self.m
            # money: balance == reserves + credits, on chain and in the model
            reserves = [a[0] for a in r["accounts"]]
            assert r["balance"][0] == sum(reserves) + sum(r["payouts"])
            assert r["balance"][0] == sum(m.reserve.values()) + sum(m.payouts.values())
            assert [tuple(a[:2]) for a in r["accounts"]] == [(m.reserve[i], m.owed[i]) for i in insurers]
            assert r["payouts"] == [m.payouts[str(h)] for h in holders]
            # no claim paid twice; statuses and amounts as modelled
            assert all(n == 1 for n in m.paid_events.values())
            assert set(m.paid_events) == {c.id for c in m.claims.values() if c.status == PAID}
            assert r["count"][0] == len(m.claims)
            expected = [(m.claims[cid].status, m.claims[cid].amount) for cid in sorted(m.claims)]
            assert [(c[2], c[4]) for c in r["claims"]] == expected
            # per policy: paid <= coverage, paid + committed <= coverage
            for p, (_, coverage, _, committed, paid, _, _) in zip(m.policies, r["policies"], strict=True):
                assert paid <= coverage and paid + committed <= coverage
                assert (paid, committed) == (p.paid, p.committed)
            # an evidence record backs at most one live claim (Model.live_claim asserts <= 1)
            assert r["live"] == [m.live_claim(record) for record in everyone_records]

    run_state_machine_as_test(ClaimsMachine, settings=SETTINGS)


pytestmark = pytest.mark.filterwarnings("ignore")
