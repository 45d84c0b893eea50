"""Stateful test: ConsentRegistry.isPermitted always equals a plain Python model of consent.

Rules mirror every transition: direct grant/revoke, grantBySig/revokeBySig (signed by the patient, its
guardian or a stranger, with deadlines around the block time), nonce invalidation, guardians (appoint,
remove, act directly, expire), break-glass (open, close, expire), grantee suspension/reinstatement, and
time travel (including jumps onto every boundary the model knows). Each rule predicts from the model whether
the contract accepts the call and with which custom error; a refused call is checked as an eth_call at the
same block time (nothing mined), an accepted one is sent and updates the model. After every step the whole
isPermitted matrix (patients x grantees x purposes 0..6 x class masks) is compared with the model, now and at
every boundary time (eth_call block-time overrides), plus nonces and active guardians.

hypothesis' RuleBasedStateMachine is used directly (brownie 1.22.2's state_machine helper is broken); every
example starts from the same chain snapshot. Time is set exactly per transaction (evm_setNextBlockTimestamp)
so the model knows `block.timestamp`. MEDCHAIN_PROFILE=long runs more and longer examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from brownie import chain, web3
from eth_abi import decode
from eth_account import Account
from helpers import REINSTATE, SUSPEND, admit, roles
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from medchain import signing
from medchain.reverts import decode_revert

LONG = os.environ.get("MEDCHAIN_PROFILE") == "long"
SETTINGS = settings(
    derandomize=not LONG,  # CI: the same sequences every run (a red CI is a regression); long: random
    max_examples=250 if LONG else 15, stateful_step_count=50 if LONG else 25, deadline=None, database=None
)

DAY = 86_400
ZERO = "0x" + "00" * 20
LAB, IMAGING, ALL = 1 << 3, 1 << 4, (1 << 11) - 1
EMERGENCY = 4
PURPOSES = list(range(7))  # 0 and 6 are invalid: asked too, they must never be permitted
MASKS = [0, LAB, LAB | IMAGING, ALL, 1 << 11]

purposes = st.sampled_from([1, 2, 3, 4, 5, 0, 6])
valid_purposes = st.integers(min_value=1, max_value=5)
class_maps = st.sampled_from([LAB, IMAGING, LAB | IMAGING, ALL, 0, 1 << 11, LAB | 1 << 40])
valid_class_maps = st.sampled_from([LAB, IMAGING, LAB | IMAGING, ALL])
steps = st.integers(min_value=1, max_value=120)  # seconds between transactions
from_offsets = st.sampled_from([0, None, -1_000, 30, 500])  # None = validFrom 0
until_offsets = st.sampled_from([None, -5, 0, 30, 600, 10 * DAY])  # None = validUntil 0 (no end)
deadline_offsets = st.sampled_from([-1, 0, 1, 3_600])
idx2 = st.integers(min_value=0, max_value=1)


@dataclass
class Consent:
    classes: int
    valid_from: int
    valid_until: int
    revoked: bool = False


@dataclass
class Model:
    consents: dict[tuple[str, str, int], Consent] = field(default_factory=dict)
    guardians: dict[str, tuple[str, int]] = field(default_factory=dict)  # patient -> (guardian, until)
    nonces: dict[str, int] = field(default_factory=dict)
    access: dict[tuple[str, str], tuple[int, int]] = field(
        default_factory=dict
    )  # (patient, hospital) -> (id, exp)
    openings: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (patient, hospital)
    suspended: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)

    def permitted(self, patient: str, grantee: str, purpose: int, mask: int, now: int) -> bool:
        if grantee not in self.members or grantee in self.suspended:
            return False
        c = self.consents.get((patient, grantee, purpose))
        if c and mask and c.classes & mask == mask and not c.revoked and c.valid_from <= now:
            if c.valid_until == 0 or now <= c.valid_until:
                return True
        _, expires = self.access.get((patient, grantee), (0, 0))
        return purpose == EMERGENCY and 0 < mask <= ALL and expires > now

    def edges(self) -> set[int]:
        times = {t for c in self.consents.values() for t in (c.valid_from, c.valid_until, c.valid_until + 1)}
        times |= {t for _, expires in self.access.values() for t in (expires - 1, expires)}
        times |= {t for _, until in self.guardians.values() for t in (until, until + 1)}
        return times

    def active_guardian(self, patient: str, now: int) -> str | None:
        guardian, until = self.guardians.get(patient, (None, 0))
        return guardian if guardian and until >= now else None

    def grant_error(
        self, purpose: int, classes: int, valid_from: int, valid_until: int, t: int
    ) -> tuple | None:
        if not 1 <= purpose <= 5:
            return ("ConsentInvalidPurpose", purpose)
        if not 0 < classes <= ALL:
            return ("ConsentInvalidDataClasses", classes)
        if valid_until and (valid_until < valid_from or valid_until < t):
            return ("ConsentInvalidPeriod", valid_from, valid_until)
        return None

    def revoke_error(self, patient: str, grantee: str, purpose: int) -> tuple | None:
        if not 1 <= purpose <= 5:
            return ("ConsentInvalidPurpose", purpose)
        c = self.consents.get((patient, grantee, purpose))
        if c is None:
            return ("ConsentNotFound", patient, grantee, purpose)
        if c.revoked:
            return ("ConsentAlreadyRevoked",)
        return None


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _now() -> int:
    return int(chain[-1].timestamp)


def _at(t: int) -> None:
    assert "error" not in web3.provider.make_request("evm_setNextBlockTimestamp", [t])


def test_is_permitted_matches_model(
    Consortium: Any, ConsentRegistry: Any, ConsentProbe: Any, accounts: Any, patient: Any, patient2: Any
) -> None:
    council, hospital, hospital_b, insurer, stranger = (accounts[i] for i in (0, 3, 4, 5, 13))
    guardian_keys = [accounts.add("0x" + "33" * 32), accounts.add("0x" + "44" * 32)]
    consortium = Consortium.deploy([council], ["Council"], 1, {"from": council})
    for member, role, name in (
        (hospital, "HOSPITAL", "Hospital A"),
        (hospital_b, "HOSPITAL", "Hospital B"),
        (insurer, "INSURER", "Insurer X"),
    ):
        admit(consortium, council, member, roles(role), name)
    registry = ConsentRegistry.deploy(consortium, {"from": council})
    probe = ConsentProbe.deploy({"from": council})
    patients = [patient, patient2]
    for account in patients + guardian_keys:
        council.transfer(account, "100 ether")
    grantees = [hospital, insurer, stranger, hospital_b]
    hospitals = [hospital, hospital_b]
    domain = signing.Domain(chain.id, registry.address)
    keys = {str(a): Account.from_key(a.private_key) for a in patients + guardian_keys}  # eth_account signers
    members = {str(hospital), str(hospital_b), str(insurer)}
    matrix_call = probe.isPermittedMatrix.encode_input(registry, patients, grantees, PURPOSES, MASKS)

    def matrix_at(t: int) -> list[bool]:
        """isPermittedMatrix as seen at block time `t` (eth_call with a block override)."""
        call = {"to": probe.address, "data": matrix_call}
        response = web3.provider.make_request("eth_call", [call, "latest", {}, {"time": hex(t)}])
        assert "result" in response, response
        return list(decode(["bool[]"], bytes.fromhex(response["result"][2:]))[0])

    def active_guardian_at(patient: Any, t: int) -> str:
        call = {"to": registry.address, "data": registry.activeGuardian.encode_input(patient)}
        response = web3.provider.make_request("eth_call", [call, "latest", {}, {"time": hex(t)}])
        return str(web3.to_checksum_address(decode(["address"], bytes.fromhex(response["result"][2:]))[0]))

    chain.snapshot()

    class ConsentMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            chain.revert()
            self.model = Model(members=set(members))
            self.now = _now()

        # ---- helpers ----

        def send(self, dt: int, error: tuple | None, fn: Any, *args: Any) -> Any:
            """Send `fn(*args)` at now + dt and expect success; or, when `error` (name, args...) is predicted,
            run it as an eth_call at that block time and expect exactly that custom error (nothing is mined,
            so a refused call never moves the chain)."""
            t = self.now + dt
            if error is None:
                _at(t)
                tx = fn(*args)
                self.now = _now()
                assert self.now == t
                return tx
            *call_args, tx_params = args
            call = {"from": str(tx_params["from"]), "to": fn._address, "data": fn.encode_input(*call_args)}
            response = web3.provider.make_request("eth_call", [call, "latest", {}, {"time": hex(t)}])
            assert "error" in response, (error, "the call succeeded")
            revert = decode_revert(response["error"].get("data"))
            assert revert is not None and revert.name == error[0], (error, response["error"])
            if len(error) > 1:
                assert [_norm(v) for v in revert.args_dict.values()] == [_norm(v) for v in error[1:]], (
                    error,
                    revert,
                )
            return None

        def apply_grant(self, p: str, g: str, u: int, classes: int, vf: int, vu: int) -> None:
            self.model.consents[(p, g, u)] = Consent(classes, vf, vu)

        def period(self, t: int, from_off: int | None, until_off: int | None) -> tuple[int, int]:
            vf = 0 if from_off is None else max(t + from_off, 0)
            vu = 0 if until_off is None else max(t + until_off, 0)
            return vf, vu

        def signer_for(self, kind: int, p_index: int) -> Any:
            """0: the patient, 1: its (current or former) guardian key, 2: the other patient (a stranger)."""
            p = str(patients[p_index])
            if kind == 0:
                return patients[p_index]
            if kind == 1:
                stored = self.model.guardians.get(p)
                return next((k for k in guardian_keys if stored and str(k) == stored[0]), guardian_keys[0])
            return patients[1 - p_index]

        def sig_error(self, p: str, signer: Any, deadline: int, t: int) -> tuple | None:
            if t > deadline:
                return ("ConsentSignatureExpired", deadline, t)
            if str(signer) == p:
                return None
            guardian, until = self.model.guardians.get(p, (None, 0))
            if guardian == str(signer):
                return ("ConsentGuardianExpired", p, guardian, until) if until < t else None
            return ("ConsentInvalidSignature", p, str(signer))

        # ---- direct consent ----

        @rule(
            pi=idx2,
            gi=st.integers(0, 3),
            u=purposes,
            classes=class_maps,
            fo=from_offsets,
            uo=until_offsets,
            dt=steps,
        )
        def grant(
            self, pi: int, gi: int, u: int, classes: int, fo: int | None, uo: int | None, dt: int
        ) -> None:
            p, g = str(patients[pi]), str(grantees[gi])
            t = self.now + dt
            vf, vu = self.period(t, fo, uo)
            error = self.model.grant_error(u, classes, vf, vu, t)
            self.send(dt, error, registry.grant, g, u, classes, vf, vu, {"from": patients[pi]})
            if error is None:
                self.apply_grant(p, g, u, classes, vf, vu)

        def pick(self, pi: int, gi: int, u: int, existing: int | None) -> tuple[int, int, int]:
            """(patient, grantee, purpose) indexes: as drawn, or (existing = k) the k-th consent the model
            holds, so revocations often hit a live consent."""
            keys = sorted(self.model.consents)
            if existing is None or not keys:
                return pi, gi, u
            p, g, u = keys[existing % len(keys)]
            return [str(x) for x in patients].index(p), [str(x) for x in grantees].index(g), u

        @rule(pi=idx2, gi=st.integers(0, 3), u=purposes, existing=st.none() | st.integers(0, 31), dt=steps)
        def revoke(self, pi: int, gi: int, u: int, existing: int | None, dt: int) -> None:
            pi, gi, u = self.pick(pi, gi, u, existing)
            p, g = str(patients[pi]), str(grantees[gi])
            error = self.model.revoke_error(p, g, u)
            self.send(dt, error, registry.revoke, g, u, {"from": patients[pi]})
            if error is None:
                self.model.consents[(p, g, u)].revoked = True

        # ---- signatures ----

        @rule(
            pi=idx2,
            kind=st.integers(0, 2),
            gi=st.integers(0, 3),
            u=valid_purposes,
            classes=valid_class_maps,
            fo=from_offsets,
            uo=st.sampled_from([None, 0, 30, 10 * DAY]),
            do=deadline_offsets,
            dt=steps,
        )
        def grant_by_sig(
            self,
            pi: int,
            kind: int,
            gi: int,
            u: int,
            classes: int,
            fo: int | None,
            uo: int | None,
            do: int,
            dt: int,
        ) -> None:
            p, g = str(patients[pi]), str(grantees[gi])
            t = self.now + dt
            vf, vu = self.period(t, fo, uo)
            vu = max(vu, vf) if vu else 0
            signer = self.signer_for(kind, pi)
            nonce = self.model.nonces.get(p, 0)
            msg = signing.ConsentGrant(p, g, u, classes, vf, vu, nonce, t + do)
            sig = signing.sign(msg, domain, keys[str(signer)])
            error = self.sig_error(p, signer, t + do, t) or self.model.grant_error(u, classes, vf, vu, t)
            self.send(
                dt, error, registry.grantBySig, p, g, u, classes, vf, vu, t + do, sig, {"from": hospital}
            )
            if error is None:
                self.apply_grant(p, g, u, classes, vf, vu)
                self.model.nonces[p] = nonce + 1

        @rule(
            pi=idx2,
            kind=st.integers(0, 2),
            gi=st.integers(0, 3),
            u=valid_purposes,
            do=deadline_offsets,
            existing=st.none() | st.integers(0, 31),
            dt=steps,
        )
        def revoke_by_sig(
            self, pi: int, kind: int, gi: int, u: int, do: int, existing: int | None, dt: int
        ) -> None:
            pi, gi, u = self.pick(pi, gi, u, existing)
            p, g = str(patients[pi]), str(grantees[gi])
            t = self.now + dt
            signer = self.signer_for(kind, pi)
            nonce = self.model.nonces.get(p, 0)
            sig = signing.sign(signing.ConsentRevoke(p, g, u, nonce, t + do), domain, keys[str(signer)])
            error = self.sig_error(p, signer, t + do, t) or self.model.revoke_error(p, g, u)
            self.send(dt, error, registry.revokeBySig, p, g, u, t + do, sig, {"from": insurer})
            if error is None:
                self.model.consents[(p, g, u)].revoked = True
                self.model.nonces[p] = nonce + 1

        @rule(pi=idx2, by=st.integers(0, 2), dt=steps)
        def invalidate_nonce(self, pi: int, by: int, dt: int) -> None:
            p = str(patients[pi])
            sender = [patients[pi], self.signer_for(1, pi), stranger][by]
            t = self.now + dt
            error = None
            if str(sender) != p:
                guardian, until = self.model.guardians.get(p, (None, 0))
                if guardian != str(sender):
                    error = ("ConsentUnauthorized", str(sender), p)
                elif until < t:
                    error = ("ConsentGuardianExpired", p, guardian, until)
            self.send(dt, error, registry.invalidateNonce, p, {"from": sender})
            if error is None:
                self.model.nonces[p] = self.model.nonces.get(p, 0) + 1

        # ---- guardians ----

        @rule(pi=idx2, gk=idx2, uo=st.sampled_from([-1, 0, 1, 100, 2 * DAY]), dt=steps)
        def set_guardian(self, pi: int, gk: int, uo: int, dt: int) -> None:
            p, guardian = str(patients[pi]), str(guardian_keys[gk])
            t = self.now + dt
            until = max(t + uo, 0)
            error = ("ConsentInvalidGuardian", guardian, until) if until <= t else None
            self.send(dt, error, registry.setGuardian, guardian, until, {"from": patients[pi]})
            if error is None:
                self.model.guardians[p] = (guardian, until)

        @rule(pi=idx2, dt=steps)
        def remove_guardian(self, pi: int, dt: int) -> None:
            p = str(patients[pi])
            error = None if p in self.model.guardians else ("ConsentNoGuardian", p)
            self.send(dt, error, registry.removeGuardian, {"from": patients[pi]})
            if error is None:
                del self.model.guardians[p]

        @rule(
            pi=idx2,
            gk=idx2,
            gi=st.integers(0, 3),
            u=valid_purposes,
            classes=valid_class_maps,
            revoke=st.booleans(),
            existing=st.none() | st.integers(0, 31),
            dt=steps,
        )
        def guardian_acts(
            self, pi: int, gk: int, gi: int, u: int, classes: int, revoke: bool, existing: int | None, dt: int
        ) -> None:
            if revoke:
                pi, gi, u = self.pick(pi, gi, u, existing)
            p, g, key = str(patients[pi]), str(grantees[gi]), guardian_keys[gk]
            t = self.now + dt
            guardian, until = self.model.guardians.get(p, (None, 0))
            error: tuple | None = None
            if guardian != str(key):
                error = ("ConsentUnauthorized", str(key), p)
            elif until < t:
                error = ("ConsentGuardianExpired", p, guardian, until)
            if revoke:
                error = error or self.model.revoke_error(p, g, u)
                self.send(dt, error, registry.revokeAsGuardian, p, g, u, {"from": key})
                if error is None:
                    self.model.consents[(p, g, u)].revoked = True
            else:
                self.send(dt, error, registry.grantAsGuardian, p, g, u, classes, 0, 0, {"from": key})
                if error is None:
                    self.apply_grant(p, g, u, classes, 0, 0)

        # ---- break-glass and membership ----

        @rule(hi=idx2, pi=idx2, dt=steps)
        def open_emergency(self, hi: int, pi: int, dt: int) -> None:
            h, p = str(hospitals[hi]), str(patients[pi])
            t = self.now + dt
            opening_id, expires = self.model.access.get((p, h), (0, 0))
            error = None
            if h in self.model.suspended:
                error = ("EmergencyUnauthorized",)
            elif expires > t:
                error = ("EmergencyAlreadyOpen", p, h, opening_id)
            self.send(dt, error, registry.openEmergency, p, 1, b"\x01" * 32, {"from": hospitals[hi]})
            if error is None:
                new_id = len(self.model.openings) + 1
                self.model.openings[new_id] = (p, h)
                self.model.access[(p, h)] = (new_id, t + DAY)

        @rule(hi=idx2, oi=st.integers(1, 6), dt=steps)
        def close_emergency(self, hi: int, oi: int, dt: int) -> None:
            h = str(hospitals[hi])
            t = self.now + dt
            error: tuple | None = None
            if h in self.model.suspended:
                error = ("EmergencyUnauthorized",)
            elif oi not in self.model.openings:
                error = ("EmergencyUnknownOpening", oi)
            else:
                p, opener = self.model.openings[oi]
                current_id, expires = self.model.access.get((p, opener), (0, 0))
                expires = expires if current_id == oi else -1  # a closed or superseded opening has ended
                if opener != h:
                    error = ("EmergencyNotOpener", oi, h)
                elif expires <= t:
                    error = ("EmergencyNotOpen",)
            self.send(dt, error, registry.closeEmergency, oi, {"from": hospitals[hi]})
            if error is None:
                p, _ = self.model.openings[oi]
                del self.model.access[(p, h)]  # the contract deletes the access slot

        @rule(mi=st.integers(0, 2), suspend=st.booleans(), dt=steps)
        def set_membership(self, mi: int, suspend: bool, dt: int) -> None:
            member = [insurer, hospital, hospital_b][mi]
            if suspend == (str(member) in self.model.suspended):
                return  # already in that state
            kind = SUSPEND if suspend else REINSTATE
            _at(self.now + dt)
            pid = consortium.propose(kind, member, 0, "", "", {"from": council}).return_value
            _at(self.now + dt + 1)
            consortium.execute(pid, {"from": council})
            self.now = _now()
            (self.model.suspended.add if suspend else self.model.suspended.discard)(str(member))

        @rule(dt=st.sampled_from([1, 59, 3_600, DAY - 1, DAY, 7 * DAY]))
        def time_passes(self, dt: int) -> None:
            self.mine(self.now + dt)

        @rule(k=st.integers(0, 63), before=st.booleans())
        def time_to_edge(self, k: int, before: bool) -> None:
            """Jump to (or one second before) a boundary the model knows: a consent's validFrom / validUntil
            (+1), an access's expiry, a guardianship's end (+1) — so views and 1-second-later transactions
            land exactly on the edges."""
            edges = sorted(t - before for t in self.model.edges() if t - before > self.now)
            if edges:
                self.mine(edges[k % len(edges)])

        def mine(self, t: int) -> None:
            self.now = t
            assert "error" not in web3.provider.make_request("evm_mine", [t])

        # ---- invariants ----

        @invariant()
        def is_permitted_matches_model(self) -> None:
            """The whole matrix now, and at every boundary time the model knows (eth_calls with a block-time
            override: isPermitted is a function of state and time, so edges are checked without mining)."""
            assert _now() == self.now
            times = sorted({self.now} | {t for t in self.model.edges() if t > 0})
            for t in times[-24:]:
                answers = matrix_at(t)
                i = 0
                for p in patients:
                    for g in grantees:
                        for u in PURPOSES:
                            for m in MASKS:
                                expected = self.model.permitted(str(p), str(g), u, m, t)
                                assert answers[i] == expected, (str(p), str(g), u, m, t, self.now)
                                i += 1

        @invariant()
        def nonces_and_guardians_match_model(self) -> None:
            for p in patients:
                assert registry.nonces(p) == self.model.nonces.get(str(p), 0)
                _, until = self.model.guardians.get(str(p), (None, 0))
                for t in {self.now, until, until + 1}:
                    expected = self.model.active_guardian(str(p), t) or ZERO
                    assert active_guardian_at(p, t) == expected, (str(p), t, self.now)

    run_state_machine_as_test(ConsentMachine, settings=SETTINGS)
