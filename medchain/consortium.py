"""Consortium service functions: council governance, member listing, operator keys, profiles.

Every function takes the Consortium as a web3 `Contract` (e.g. `Suite.consortium`, or
`web3.eth.contract(address, abi=load_abi("Consortium"))` under brownie) and, for transactions, a signer
(`medchain.chain.Signer`). Reverts raise `ContractRevert` named after the custom error; malformed input
raises `InputError` before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from medchain import tx
from medchain.addresses import checked_address
from medchain.chain import Signer
from medchain.codes import ROLES, parse_roles, role_names
from medchain.errors import ChainError, InputError
from medchain.text import is_digits

__all__ = [
    "ZERO_ADDRESS",
    "Governance",
    "Member",
    "MemberStatus",
    "Proposal",
    "ProposalKind",
    "ProposalRequest",
    "ProposalStatus",
    "add_operator",
    "approve",
    "authorized_member",
    "cancel",
    "execute",
    "get_member",
    "get_proposal",
    "governance",
    "member_of",
    "members",
    "operators",
    "parse_kind",
    "proposal_request",
    "proposals",
    "propose",
    "remove_operator",
    "rotate_operator",
    "update_profile",
]

ZERO_ADDRESS = "0x" + "00" * 20


class MemberStatus(IntEnum):
    """IConsortium.MemberStatus."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class ProposalKind(IntEnum):
    """IConsortium.ProposalKind."""

    NONE = 0
    ADMIT = 1
    SUSPEND = 2
    REINSTATE = 3
    SET_ROLES = 4
    SET_THRESHOLD = 5


class ProposalStatus(IntEnum):
    """IConsortium.ProposalStatus."""

    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3


_KIND_ALIASES = {"ROLES": ProposalKind.SET_ROLES, "THRESHOLD": ProposalKind.SET_THRESHOLD}


@dataclass(frozen=True)
class Member:
    """A member institution as the Consortium holds it; `operators` rebuilt from events when asked."""

    address: str
    name: str
    uri: str
    roles: int  # role bitmap
    role_names: list[str]
    status: str  # "ACTIVE" | "SUSPENDED" | "NONE"
    admitted_at: int  # unix seconds
    updated_at: int  # last status or role change
    operator_count: int
    operators: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Proposal:
    """A governance proposal; `expired` and `approved_by` come from the latest block and current council."""

    id: int
    kind: str  # "ADMIT", "SUSPEND", ...
    status: str  # "PENDING" | "EXECUTED" | "CANCELLED"
    approvals: int
    threshold: int  # the current threshold (what execution needs now)
    value: int  # roles bitmap (ADMIT, SET_ROLES) or new threshold (SET_THRESHOLD)
    value_text: str  # "HOSPITAL,AUDITOR", "3" or ""
    target: str
    proposer: str
    name: str
    uri: str
    created_at: int
    expires_at: int
    expired: bool
    approved_by: list[str] = field(default_factory=list)

    @property
    def executable(self) -> bool:
        return self.status == "PENDING" and not self.expired and self.approvals >= self.threshold


@dataclass(frozen=True)
class Governance:
    """Council-wide numbers."""

    threshold: int
    council_count: int
    proposal_count: int
    proposal_lifetime: int  # seconds


@dataclass(frozen=True)
class ProposalRequest:
    """Validated arguments of `IConsortium.propose`."""

    kind: ProposalKind
    target: str
    value: int
    name: str = ""
    uri: str = ""


# ---- input ----


def parse_kind(text: str | int) -> ProposalKind:
    """A proposal kind from a name (``admit``, ``set-roles``, ``roles``, ``threshold``) or number."""
    if isinstance(text, int) or is_digits(str(text).strip()):
        number = int(str(text).strip())
        if ProposalKind.ADMIT <= number <= ProposalKind.SET_THRESHOLD:
            return ProposalKind(number)
        raise InputError(f"unknown proposal kind {number} (1..5)")
    key = str(text).strip().upper().replace("-", "_")
    if key in _KIND_ALIASES:
        return _KIND_ALIASES[key]
    if key in ProposalKind.__members__ and key != "NONE":
        return ProposalKind[key]
    known = ", ".join(k.name.lower().replace("_", "-") for k in ProposalKind if k)
    raise InputError(f"unknown proposal kind {text!r} (known: {known})")


def proposal_request(
    kind: str | int | ProposalKind,
    target: str | None = None,
    roles: str | int | None = None,
    threshold: int | None = None,
    name: str | None = None,
    uri: str | None = None,
) -> ProposalRequest:
    """Check that `kind` gets exactly the arguments it needs; roles as ``HOSPITAL,INSURER`` or a bitmap."""
    k = kind if isinstance(kind, ProposalKind) else parse_kind(kind)
    label = k.name.lower().replace("_", "-")
    if k == ProposalKind.SET_THRESHOLD:
        if target is not None or roles is not None or name or uri:
            raise InputError("set-threshold takes only --threshold N")
        if threshold is None or threshold < 1:
            raise InputError("set-threshold needs --threshold N (N >= 1)")
        return ProposalRequest(k, ZERO_ADDRESS, int(threshold))
    if threshold is not None:
        raise InputError(f"{label} does not take --threshold")
    if target is None:
        raise InputError(f"{label} needs --target ADDRESS")
    address = checked_address(target, "target")
    if k in (ProposalKind.SUSPEND, ProposalKind.REINSTATE):
        if roles is not None or name or uri:
            raise InputError(f"{label} takes only --target")
        return ProposalRequest(k, address, 0)
    if roles is None:
        raise InputError(f"{label} needs --roles (e.g. HOSPITAL,AUDITOR)")
    bitmap = roles if isinstance(roles, int) else parse_roles(roles)
    if k == ProposalKind.SET_ROLES:
        if name or uri:
            raise InputError("set-roles does not take --name/--uri")
        return ProposalRequest(k, address, bitmap)
    if not name:
        raise InputError("admit needs --name (the institution's public name)")
    return ProposalRequest(k, address, bitmap, name, uri or "")


# ---- governance ----


def propose(consortium: Contract, sender: Signer, request: ProposalRequest) -> int:
    """Send the proposal (the sender's member approves it at once); returns the new proposal id."""
    fn = consortium.functions.propose(
        int(request.kind), request.target, request.value, request.name, request.uri
    )
    receipt = tx.send(consortium.w3, fn, sender)
    return int(_event(consortium, "ProposalCreated", receipt)["proposalId"])


def approve(consortium: Contract, sender: Signer, proposal_id: int) -> int:
    """Approve for the sender's council member; returns the approvals counted so far."""
    receipt = tx.send(consortium.w3, consortium.functions.approve(proposal_id), sender)
    return int(_event(consortium, "ProposalApproved", receipt)["approvals"])


def execute(consortium: Contract, sender: Signer, proposal_id: int) -> TxReceipt:
    """Execute a proposal that has enough approvals."""
    return tx.send(consortium.w3, consortium.functions.execute(proposal_id), sender)


def cancel(consortium: Contract, sender: Signer, proposal_id: int) -> TxReceipt:
    """Cancel a pending proposal (a key of the proposing member only)."""
    return tx.send(consortium.w3, consortium.functions.cancel(proposal_id), sender)


def governance(consortium: Contract) -> Governance:
    f = consortium.functions
    return Governance(
        threshold=int(tx.call(f.threshold())),
        council_count=int(tx.call(f.councilCount())),
        proposal_count=int(tx.call(f.proposalCount())),
        proposal_lifetime=int(tx.call(f.proposalLifetime())),
    )


def get_proposal(consortium: Contract, proposal_id: int, council: list[str] | None = None) -> Proposal:
    """Proposal `proposal_id`; `approved_by` lists which of `council` (default: current council) approved."""
    raw = tx.call(consortium.functions.getProposal(proposal_id))
    kind, status, approvals, value, created, expires, target, proposer, name, uri = raw
    if status == ProposalStatus.NONE:
        raise InputError(f"there is no proposal {proposal_id}")
    now = int(consortium.w3.eth.get_block("latest")["timestamp"])
    voters = (
        council
        if council is not None
        else [m.address for m in members(consortium) if "COUNCIL" in m.role_names]
    )
    f = consortium.functions
    return Proposal(
        id=proposal_id,
        kind=ProposalKind(kind).name,
        status=ProposalStatus(status).name,
        approvals=int(approvals),
        threshold=int(tx.call(f.threshold())),
        value=int(value),
        value_text=_value_text(ProposalKind(kind), int(value)),
        target=Web3.to_checksum_address(target),
        proposer=Web3.to_checksum_address(proposer),
        name=name,
        uri=uri,
        created_at=int(created),
        expires_at=int(expires),
        expired=now > int(expires),
        approved_by=[a for a in voters if tx.call(f.hasApproved(proposal_id, a))],
    )


def proposals(consortium: Contract, pending_only: bool = False) -> list[Proposal]:
    """Every proposal (ids 1..proposalCount), newest first; `pending_only` keeps open, unexpired ones."""
    count = int(tx.call(consortium.functions.proposalCount()))
    council = [m.address for m in members(consortium) if "COUNCIL" in m.role_names]
    result = [get_proposal(consortium, pid, council) for pid in range(count, 0, -1)]
    return [p for p in result if p.status == "PENDING" and not p.expired] if pending_only else result


def _value_text(kind: ProposalKind, value: int) -> str:
    if kind in (ProposalKind.ADMIT, ProposalKind.SET_ROLES):
        return ",".join(role_names(value))
    return str(value) if kind == ProposalKind.SET_THRESHOLD else ""


# ---- members ----


def get_member(
    consortium: Contract, address: str, with_operators: bool = False, from_block: int = 0
) -> Member:
    """Member `address` from `getMember` (status NONE for a non-member); operator keys from events."""
    member = checked_address(address, "member")
    roles, status, admitted, updated, count, name, uri = tx.call(consortium.functions.getMember(member))
    keys = operators(consortium, member, from_block) if with_operators and status else []
    return Member(
        address=member,
        name=name,
        uri=uri,
        roles=int(roles),
        role_names=role_names(int(roles)),
        status=MemberStatus(status).name,
        admitted_at=int(admitted),
        updated_at=int(updated),
        operator_count=int(count),
        operators=keys,
    )


def members(consortium: Contract, from_block: int = 0, with_operators: bool = False) -> list[Member]:
    """Every member ever admitted (from MemberAdmitted events), with its current state, in admission order."""
    logs = consortium.events.MemberAdmitted().get_logs(from_block=from_block)
    seen = dict.fromkeys(str(log["args"]["member"]) for log in logs)
    return [get_member(consortium, m, with_operators, from_block) for m in seen]


def operators(consortium: Contract, member: str, from_block: int = 0) -> list[str]:
    """`member`'s current operator keys, replayed from OperatorAdded/OperatorRemoved events."""
    address = checked_address(member, "member")
    events = consortium.events
    logs = [
        *events.OperatorAdded().get_logs(from_block=from_block, argument_filters={"member": address}),
        *events.OperatorRemoved().get_logs(from_block=from_block, argument_filters={"member": address}),
    ]
    keys: dict[str, None] = {}
    for log in sorted(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"])):
        key = str(log["args"]["key"])
        if log["event"] == "OperatorAdded":
            keys[key] = None
        else:
            keys.pop(key, None)
    return list(keys)


def member_of(consortium: Contract, account: str) -> str | None:
    """The member behind `account` (itself, or the member of an operator key, any status); None if unknown."""
    member = str(tx.call(consortium.functions.memberOf(checked_address(account, "account"))))
    return None if int(member, 16) == 0 else Web3.to_checksum_address(member)


def authorized_member(consortium: Contract, account: str, role: str) -> str | None:
    """The member `account` acts for if it holds `role` (a name) with an active member, else None."""
    role_id = ROLES.get(role.strip().upper())
    if role_id is None:
        raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    member = str(tx.call(consortium.functions.authorizedMember(checked_address(account, "account"), role_id)))
    return None if int(member, 16) == 0 else Web3.to_checksum_address(member)


# ---- member self-service (the member address signs) ----


def add_operator(consortium: Contract, sender: Signer, key: str) -> TxReceipt:
    return tx.send(consortium.w3, consortium.functions.addOperator(checked_address(key, "key")), sender)


def remove_operator(consortium: Contract, sender: Signer, key: str) -> TxReceipt:
    return tx.send(consortium.w3, consortium.functions.removeOperator(checked_address(key, "key")), sender)


def rotate_operator(consortium: Contract, sender: Signer, old_key: str, new_key: str) -> TxReceipt:
    old, new = checked_address(old_key, "old key"), checked_address(new_key, "new key")
    fn = consortium.functions.rotateOperator(old, new)
    return tx.send(consortium.w3, fn, sender)


def update_profile(consortium: Contract, sender: Signer, name: str, uri: str) -> TxReceipt:
    return tx.send(consortium.w3, consortium.functions.updateProfile(name, uri), sender)


def _event(consortium: Contract, name: str, receipt: TxReceipt) -> Any:
    """The args of the first `name` event of `consortium` in `receipt` (other logs skipped quietly)."""
    for log in getattr(consortium.events, name)().process_receipt(receipt, errors=DISCARD):
        if log["address"] == consortium.address:
            return log["args"]
    raise ChainError(f"no {name} event in transaction {Web3.to_hex(receipt['transactionHash'])}")
