"""Reading the ClaimsManager: its settlement token, policies, claims, and each evidence record as the chain
sees it now. Every other claims module reads through these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain.abi import load_abi
from medchain.addresses import ZERO_ADDRESS
from medchain.codes import DATA_CLASS_NAMES, PURPOSES, ROLES
from medchain.contracts import Suite
from medchain.errors import InputError
from medchain.hashing import patient_commitment, record_leaf
from medchain.money import Currency
from medchain.text import is_digits

CLAIM_PURPOSE = PURPOSES["CLAIM"]
#: IClaimsManager.ClaimStatus, by value
STATUS_NAMES = ("None", "Submitted", "Approved", "Rejected", "Withdrawn", "Escalated", "Paid")
SUBMITTED, APPROVED, REJECTED, WITHDRAWN, ESCALATED, PAID = range(1, 7)


def currency(suite: Suite) -> Currency:
    """The ClaimsManager's settlement token (its symbol and decimals, read from the chain)."""
    claims = suite.require("claims")
    address = claims.functions.token().call()
    token = erc20(suite, address)
    return Currency(address, token.functions.symbol().call(), token.functions.decimals().call())


def erc20(suite: Suite, address: str) -> Any:
    """An ERC-20 handle; the test token's ABI is the standard ERC-20 + metadata one (plus `mint`)."""
    return suite.w3.eth.contract(address=to_checksum_address(address), abi=load_abi("SettlementToken"))


# ---- reading policies and claims ----


@dataclass(frozen=True)
class PolicyInfo:
    id: int
    holder: str
    insurer: str
    coverage: int
    committed: int  # claimed amounts of undecided claims + approved amounts not yet paid
    paid: int
    valid_from: int
    valid_until: int

    @property
    def remaining(self) -> int:
        return self.coverage - self.paid - self.committed

    def active(self, now: int) -> bool:
        return self.valid_from <= now <= self.valid_until


@dataclass(frozen=True)
class ClaimInfo:
    id: int
    policy_id: int
    holder: str
    insurer: str
    claimant: str  # the holder, or the HOSPITAL member that submitted it
    status: str
    reason: int  # rejection reason code (0 unless Rejected)
    amount: int  # claimed; the approved amount once Approved/Paid
    submitted_at: int
    decide_by: int  # after this the claimant may escalate


def get_policy(suite: Suite, policy_id: int) -> PolicyInfo:
    """Policy `policy_id`; InputError if there is none."""
    p = suite.require("claims").functions.getPolicy(policy_id).call()
    if p[0] == ZERO_ADDRESS:
        raise InputError(f"there is no policy {policy_id}")
    return PolicyInfo(policy_id, p[0], p[2], p[1], p[3], p[4], p[5], p[6])


def get_claim(suite: Suite, claim_id: int) -> ClaimInfo:
    """Claim `claim_id` with its policy's holder and insurer; InputError if there is none."""
    c = suite.require("claims").functions.getClaim(claim_id).call()
    if c[2] == 0:
        raise InputError(f"there is no claim {claim_id}")
    policy = get_policy(suite, c[1])
    status = STATUS_NAMES[c[2]]
    return ClaimInfo(claim_id, c[1], policy.holder, policy.insurer, c[0], status, c[3], c[4], c[5], c[6])


def insurer_of(suite: Suite, account: str) -> str:
    """The INSURER member `account` acts for; InputError if it holds no INSURER role."""
    member = suite.consortium.functions.authorizedMember(account, ROLES["INSURER"]).call()
    if member == ZERO_ADDRESS:
        raise InputError(f"{account} is not a key of an active INSURER member")
    return str(member)


@dataclass(frozen=True)
class EvidenceStatus:
    """One evidence record as the chain sees it now."""

    record_hash: str
    data_class: str
    leaf: str
    anchored: bool
    hospital: str | None  # anchoring hospital's member address
    live_claim: int  # the live claim this record backs (0 = free)
    superseded_by: str | None = None  # leaf of an amendment, when the record was amended


def claimant_for(suite: Suite, policy: PolicyInfo, sender: str) -> str | None:
    if to_checksum_address(sender) == policy.holder:
        return policy.holder
    member = suite.consortium.functions.authorizedMember(sender, ROLES["HOSPITAL"]).call()
    return None if member == ZERO_ADDRESS else str(member)


def evidence_status(suite: Suite, holder: str, item: tuple[bytes, bytes, int]) -> EvidenceStatus:
    record_hash, salt, data_class = item
    records, claims = suite.require("records"), suite.require("claims")
    leaf = record_leaf(record_hash, patient_commitment(holder, salt), data_class)
    record = records.functions.getRecord(leaf).call()
    anchored = record[0] != ZERO_ADDRESS
    superseded = records.functions.supersededBy(leaf).call() if anchored else bytes(32)
    return EvidenceStatus(
        record_hash=Web3.to_hex(record_hash),
        data_class=DATA_CLASS_NAMES.get(data_class, str(data_class)),
        leaf=Web3.to_hex(leaf),
        anchored=anchored,
        hospital=record[0] if anchored else None,
        live_claim=int(claims.functions.liveClaimOf(record_hash).call()),
        superseded_by=Web3.to_hex(superseded) if superseded != bytes(32) else None,
    )


def class_code(name: str) -> int:
    return next(
        (code for code, n in DATA_CLASS_NAMES.items() if n == name), int(name) if is_digits(name) else 0
    )
