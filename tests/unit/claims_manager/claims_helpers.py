"""ClaimsManager test helpers: enum values, evidence factories, submission shortcuts, money invariants."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

from eth_abi import encode
from eth_utils import keccak

# IClaimsManager.ClaimStatus
NONE, SUBMITTED, APPROVED, REJECTED, WITHDRAWN, ESCALATED, PAID = range(7)

CLAIM = 2  # purpose code (DESIGN §6.2)
SUMMARY, OUTPATIENT, INPATIENT, LAB, IMAGING, PRESCRIPTION, BILLING = range(7)
ALL_CLASSES = (1 << 11) - 1

DAY = 24 * 3600
YEAR = 365 * DAY
DEFAULT_WINDOW = 30 * DAY

COVERAGE = 100_000  # 1,000.00 tCNY (2 decimals)
RESERVE = 1_000_000

_serial = count(1)


def now() -> int:
    """The latest block's time. Use it, not chain.time(): after a snapshot revert that undoes a
    chain.sleep, Anvil's next blocks can lag brownie's wall-clock estimate by seconds."""
    from brownie import web3

    return int(web3.eth.get_block("latest")["timestamp"])


def b32(value: str | bytes) -> str:
    """A bytes32 as brownie prints it in a decoded custom error (a Python bytes repr), for reverts_with."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    return repr(raw)


def role(name: str) -> str:
    """A role id as a reverts_with argument."""
    return b32(keccak(text=name))


def commitment(holder: Any, salt: bytes) -> bytes:
    """DESIGN §6.3: keccak256(abi.encode(address patient, bytes32 salt))."""
    return keccak(encode(["address", "bytes32"], [str(holder), salt]))


def leaf(record_hash: bytes, commit: bytes, data_class: int) -> bytes:
    """DESIGN §6.5 record key."""
    return keccak(keccak(encode(["bytes32", "bytes32", "uint8"], [record_hash, commit, data_class])))


@dataclass(frozen=True)
class Ev:
    """One piece of evidence as submitClaim takes it."""

    record_hash: bytes
    salt: bytes
    data_class: int

    @property
    def hex(self) -> str:
        return "0x" + self.record_hash.hex()

    def arg(self) -> tuple[str, str, int]:
        return ("0x" + self.record_hash.hex(), "0x" + self.salt.hex(), self.data_class)

    def leaf(self, holder: Any) -> bytes:
        return leaf(self.record_hash, commitment(holder, self.salt), self.data_class)


def new_evidence(data_class: int = LAB) -> Ev:
    """A fresh (record hash, salt, class), not anchored anywhere yet; every record has its own salt."""
    n = next(_serial)
    return Ev(keccak(text=f"record {n}"), keccak(text=f"salt {n}"), data_class)


def anchor(records: Any, hospital: Any, holder: Any, ev: Ev) -> Ev:
    """Anchor `ev` for `holder` in a RecordRegistry (real or mock) as `hospital`: only (recordHash, leaf)
    goes on chain (DESIGN §6.3 v2)."""
    records.anchor(ev.record_hash, ev.leaf(holder), {"from": hospital})
    return ev


def anchored(records: Any, hospital: Any, holder: Any, n: int = 1, data_class: int = LAB) -> list[Ev]:
    """`n` fresh records of `holder`, anchored by `hospital`."""
    return [anchor(records, hospital, holder, new_evidence(data_class)) for _ in range(n)]


def submit(
    claims: Any,
    policy_id: int,
    amount: int,
    evidence: list[Ev],
    sender: Any,
    invoice: bytes = b"",
    ref: bytes = b"",
) -> Any:
    """submitClaim; returns the transaction (claim id = tx.return_value)."""
    return claims.submitClaim(
        policy_id,
        amount,
        [e.arg() for e in evidence],
        keccak(invoice) if invoice else b"\0" * 32,
        keccak(ref) if ref else b"\0" * 32,
        {"from": sender},
    )


def create_policy(
    claims: Any,
    insurer: Any,
    holder: Any,
    coverage: int = COVERAGE,
    start: int | None = None,
    length: int = YEAR,
) -> int:
    start = now() if start is None else start
    return claims.createPolicy(holder, coverage, start, start + length, {"from": insurer}).return_value


def fund(token: Any, claims: Any, insurer: Any, amount: int = RESERVE) -> None:
    token.mint(insurer, amount, {"from": insurer})
    token.approve(claims, amount, {"from": insurer})
    claims.depositReserve(insurer, amount, {"from": insurer})


def money_balanced(claims: Any, token: Any, insurers: list[Any], beneficiaries: list[Any]) -> bool:
    """token.balanceOf(claims) == Σ reserves + Σ payout credits (over the given parties)."""
    reserves = sum(claims.insurerAccount(i)["reserve"] for i in insurers)
    credits = sum(claims.payoutOf(b) for b in beneficiaries)
    return token.balanceOf(claims) == reserves + credits


def grant_consent(consent: Any, patient: Any, grantee: Any, classes: int = ALL_CLASSES) -> None:
    """Patient consents to `grantee` using `classes` for purpose CLAIM (real registry or mock)."""
    if hasattr(consent, "set"):
        consent.set(patient, grantee, CLAIM, classes, {"from": patient})
    else:
        consent.grant(grantee, CLAIM, classes, 0, 0, {"from": patient})


def revoke_consent(consent: Any, patient: Any, grantee: Any) -> None:
    if hasattr(consent, "set"):
        consent.set(patient, grantee, CLAIM, 0, {"from": patient})
    else:
        consent.revoke(grantee, CLAIM, {"from": patient})
