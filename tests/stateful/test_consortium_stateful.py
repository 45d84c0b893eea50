"""Stateful test: Consortium.isAuthorized always equals a Python model of members, roles, status and keys.

Rules mirror every membership transition (admit, suspend, reinstate, setRoles and removeOperator through
threshold-1 governance; offerOperator (also as a rotation), withdrawOperatorOffer and removeOperator by the
member; acceptOperator by the key). Each rule predicts from the model whether the contract accepts the call;
an accepted call updates the model, a refused one must revert.
hypothesis' RuleBasedStateMachine is used directly (brownie 1.22.2's state_machine helper is broken); every
run starts from the same chain snapshot. MEDCHAIN_PROFILE=long runs more and longer examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from brownie import chain
from helpers import ADMIT, REINSTATE, REMOVE_OPERATOR, ROLE_BIT, ROLE_ID, ROLE_NAMES, SET_ROLES, SUSPEND
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from web3.exceptions import ContractLogicError

LONG = os.environ.get("MEDCHAIN_PROFILE") == "long"
SETTINGS = settings(
    derandomize=not LONG,  # CI: the same sequences every run (a red CI is a regression); long: random
    max_examples=200 if LONG else 10,
    stateful_step_count=40 if LONG else 15,
    deadline=None,
    database=None,
)
ACTIVE, SUSPENDED = 1, 2
COUNCIL = ROLE_BIT["COUNCIL"]
POOL_SIZE = 8  # accounts[2 .. 9] can become members or keys; accounts[0], [1] found the council

role_maps = st.integers(min_value=1, max_value=(1 << len(ROLE_NAMES)) - 1)


@dataclass
class Model:
    members: dict[str, list[int]]  # member -> [roles, status]
    keys: dict[str, str]  # operator key -> member
    offers: dict[tuple[str, str], str | None]  # (member, key) -> the key it replaces, or None

    def registered(self, account: str) -> bool:
        return account in self.members or account in self.keys

    def council_count(self) -> int:
        return sum(1 for roles, status in self.members.values() if roles & COUNCIL and status == ACTIVE)

    def active(self, member: str) -> bool:
        return member in self.members and self.members[member][1] == ACTIVE

    def authorized(self, account: str, bit: int) -> bool:
        member = account if account in self.members else self.keys.get(account)
        if member is None:
            return False
        roles, status = self.members[member]
        return status == ACTIVE and bool(roles & bit)

    def leaves_council(self, target: str, new_roles: int | None) -> bool:
        """Would suspending `target` (new_roles None) or giving it `new_roles` drop the council below 1?"""
        roles, status = self.members[target]
        losing = status == ACTIVE and roles & COUNCIL and (new_roles is None or not new_roles & COUNCIL)
        return bool(losing) and self.council_count() - 1 < 1


def test_is_authorized_matches_model(Consortium: Any, accounts: Any, web3: Any) -> None:
    founders = [accounts[0], accounts[1]]
    consortium = Consortium.deploy(founders, ["Founder A", "Founder B"], 1, {"from": founders[0]})
    pool = [accounts[2 + i] for i in range(POOL_SIZE)]
    everyone = [str(a) for a in founders + pool]
    view = web3.eth.contract(address=consortium.address, abi=consortium.abi)  # plain web3: fast calls
    pairs = [(account, name) for account in everyone for name in ROLE_NAMES]
    offer_pairs = [(member, key) for member in everyone for key in everyone]
    zero = "0x" + "00" * 20
    chain.snapshot()

    def authorizations() -> list[bool]:
        """isAuthorized for every (account, role) pair, in one JSON-RPC batch."""
        with web3.batch_requests() as batch:
            for account, name in pairs:
                batch.add(view.functions.isAuthorized(account, ROLE_ID[name]))
            return [bool(r) for r in batch.execute()]

    def send(ok: bool, fn: Any, sender: str) -> None:
        """Send `fn` from unlocked `sender` with plain web3 (faster than brownie); reverts iff not ok."""
        if not ok:
            with pytest.raises((ContractLogicError, ValueError)):  # brownie's web3 raises ValueError
                fn.transact({"from": sender})
            return
        receipt = web3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt.status == 1

    class ConsortiumMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            chain.revert()
            self.model = Model({str(a): [COUNCIL, ACTIVE] for a in founders}, {}, {})

        def teardown(self) -> None:
            chain.revert()

        # ---- helpers ----

        def _pick(self, data: Any, likely: list[str], label: str) -> str:
            """Mostly one of `likely` (the interesting accounts now), sometimes any (invalid paths)."""
            if likely and data.draw(st.integers(min_value=0, max_value=4), label=f"{label}?"):
                return data.draw(st.sampled_from(sorted(likely)), label=label)
            return data.draw(st.sampled_from(everyone), label=label)

        def _member(self, data: Any) -> str:
            return self._pick(data, list(self.model.members), "member")

        def _free(self, data: Any) -> str:
            return self._pick(data, [a for a in everyone if not self.model.registered(a)], "free")

        def _proposer(self) -> str:
            return next(m for m, (r, s) in self.model.members.items() if r & COUNCIL and s == ACTIVE)

        def _govern(self, ok: bool, kind: int, target: str, value: int, name: str = "") -> None:
            proposer = self._proposer()
            send(ok, view.functions.propose(kind, target, value, name, ""), proposer)
            if ok:
                send(True, view.functions.execute(view.functions.proposalCount().call()), proposer)

        # ---- governance rules ----

        @rule(data=st.data(), roles=role_maps)
        def admit(self, data: Any, roles: int) -> None:
            target = self._free(data)
            ok = not self.model.registered(target)
            self._govern(ok, ADMIT, target, roles, "member")
            if ok:
                self.model.members[target] = [roles, ACTIVE]

        @rule(data=st.data())
        def suspend(self, data: Any) -> None:
            target = self._member(data)
            member = self.model.members.get(target)
            ok = member is not None and member[1] == ACTIVE and not self.model.leaves_council(target, None)
            self._govern(ok, SUSPEND, target, 0)
            if ok:
                self.model.members[target][1] = SUSPENDED

        @rule(data=st.data())
        def reinstate(self, data: Any) -> None:
            target = self._member(data)
            member = self.model.members.get(target)
            ok = member is not None and member[1] == SUSPENDED
            self._govern(ok, REINSTATE, target, 0)
            if ok:
                self.model.members[target][1] = ACTIVE

        @rule(data=st.data(), roles=role_maps)
        def set_roles(self, data: Any, roles: int) -> None:
            target = self._member(data)
            member = self.model.members.get(target)
            ok = member is not None and member[0] != roles and not self.model.leaves_council(target, roles)
            self._govern(ok, SET_ROLES, target, roles)
            if ok:
                self.model.members[target][0] = roles

        # ---- operator rules: the member offers, the key accepts; the member or the council removes ----

        @rule(data=st.data(), rotation=st.booleans())
        def offer_operator(self, data: Any, rotation: bool) -> None:
            member, key = self._member(data), self._free(data)
            replaces = (
                self._pick(data, [k for k, m in self.model.keys.items() if m == member], "old")
                if rotation
                else None
            )
            ok = (
                self.model.active(member)
                and not self.model.registered(key)
                and (replaces is None or self.model.keys.get(replaces) == member)
            )
            send(ok, view.functions.offerOperator(key, replaces or zero), member)
            if ok:
                self.model.offers[(member, key)] = replaces

        @rule(data=st.data())
        def accept_operator(self, data: Any) -> None:
            offered = sorted(self.model.offers)
            member, key = (
                data.draw(st.sampled_from(offered), label="offer")
                if offered and data.draw(st.integers(0, 4), label="offered?")
                else (self._member(data), self._pick(data, [], "key"))
            )
            replaces = self.model.offers.get((member, key))
            ok = (
                (member, key) in self.model.offers
                and self.model.active(member)
                and not self.model.registered(key)
                and (replaces is None or self.model.keys.get(replaces) == member)
            )
            send(ok, view.functions.acceptOperator(member), key)
            if ok:
                del self.model.offers[(member, key)]
                if replaces is not None:
                    del self.model.keys[replaces]
                self.model.keys[key] = member

        @rule(data=st.data())
        def withdraw_offer(self, data: Any) -> None:
            member = self._member(data)
            key = self._pick(data, [k for m, k in self.model.offers if m == member], "key")
            ok = member in self.model.members and (member, key) in self.model.offers
            send(ok, view.functions.withdrawOperatorOffer(key), member)
            if ok:
                del self.model.offers[(member, key)]

        @rule(data=st.data())
        def remove_operator(self, data: Any) -> None:
            key = self._pick(data, list(self.model.keys), "key")
            member = self._pick(data, [self.model.keys[key]] if key in self.model.keys else [], "member")
            ok = member in self.model.members and self.model.keys.get(key) == member
            send(ok, view.functions.removeOperator(key), member)
            if ok:
                del self.model.keys[key]

        @rule(data=st.data())
        def council_removes_operator(self, data: Any) -> None:
            key = self._pick(data, list(self.model.keys), "key")
            ok = key in self.model.keys
            self._govern(ok, REMOVE_OPERATOR, key, 0)
            if ok:
                del self.model.keys[key]

        # ---- invariants ----

        @invariant()
        def authorization_matches_model(self) -> None:
            expected = [self.model.authorized(account, ROLE_BIT[name]) for account, name in pairs]
            actual = authorizations()
            assert actual == expected, [
                pair for pair, a, e in zip(pairs, actual, expected, strict=True) if a != e
            ]

        @invariant()
        def council_count_matches_model(self) -> None:
            assert view.functions.councilCount().call() == self.model.council_count()

        @invariant()
        def offers_match_model(self) -> None:
            with web3.batch_requests() as batch:
                for member, key in offer_pairs:
                    batch.add(view.functions.operatorOffer(member, key))
                actual = [(bool(r[0]), str(r[1])) for r in batch.execute()]
            expected = [
                ((m, k) in self.model.offers, self.model.offers.get((m, k)) or zero) for m, k in offer_pairs
            ]
            assert actual == expected

        @invariant()
        def member_of_matches_model(self) -> None:
            for account in everyone:
                expected = account if account in self.model.members else self.model.keys.get(account)
                assert view.functions.memberOf(account).call() == (expected or "0x" + "00" * 20)

    run_state_machine_as_test(ConsortiumMachine, settings=SETTINGS)


pytestmark = pytest.mark.filterwarnings("ignore")
