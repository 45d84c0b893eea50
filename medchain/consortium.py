"""Consortium service functions: council governance, member listing, operator keys, profiles.

Operator keys join in two steps (the key's consent): the active member address offers (`offer_operator`,
also used for a rotation), then the key itself accepts (`accept_operator`). `add_operator` does both for
a caller that holds both keys. The council removes a key through a ``remove-operator`` proposal.

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
from medchain.addresses import ZERO_ADDRESS, checked_address
from medchain.chain import Signer, signer_address
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
    "accept_operator",
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
    "offer_operator",
    "operator_offers",
    "operators",
    "parse_kind",
    "proposal_request",
    "proposals",
    "propose",
    "remove_operator",
    "rotate_operator",
    "update_profile",
    "withdraw_operator_offer",
]


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
    REMOVE_OPERATOR = 6


class ProposalStatus(IntEnum):
    """IConsortium.ProposalStatus."""

    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3


_KIND_ALIASES = {
    "ROLES": ProposalKind.SET_ROLES,
    "THRESHOLD": ProposalKind.SET_THRESHOLD,
    "REMOVE_KEY": ProposalKind.REMOVE_OPERATOR,
}


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
    """A governance proposal; `expired` and `counted` come from the latest block and the current council."""

    id: int
    kind: str  # "ADMIT", "SUSPEND", ..., "REMOVE_OPERATOR"
    status: str  # "PENDING" | "EXECUTED" | "CANCELLED"
    approvals: int  # recorded approvals (each council member once)
    counted: int  # those of members who are active COUNCIL now: what execution counts
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
    approved_by: list[str] = field(default_factory=list)  # recorded approvers, the proposer first

    @property
    def executable(self) -> bool:
        return self.status == "PENDING" and not self.expired and self.counted >= self.threshold


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
        if ProposalKind.ADMIT <= number <= ProposalKind.REMOVE_OPERATOR:
            return ProposalKind(number)
        raise InputError(f"unknown proposal kind {number} (1..{int(ProposalKind.REMOVE_OPERATOR)})")
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
    """Check that `kind` gets exactly the arguments it needs; roles as ``HOSPITAL,INSURER`` or a bitmap.
    For remove-operator, `target` is the operator key."""
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
    if k in (ProposalKind.SUSPEND, ProposalKind.REINSTATE, ProposalKind.REMOVE_OPERATOR):
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
    """Cancel a pending proposal: a key of the proposing member, or any active council key once the
    proposer is no longer an active COUNCIL member."""
    return tx.send(consortium.w3, consortium.functions.cancel(proposal_id), sender)


def governance(consortium: Contract) -> Governance:
    f = consortium.functions
    return Governance(
        threshold=int(tx.call(f.threshold())),
        council_count=int(tx.call(f.councilCount())),
        proposal_count=int(tx.call(f.proposalCount())),
        proposal_lifetime=int(tx.call(f.proposalLifetime())),
    )


def get_proposal(consortium: Contract, proposal_id: int) -> Proposal:
    """Proposal `proposal_id`, with its recorded approvers and the approvals that count now."""
    f = consortium.functions
    raw = tx.call(f.getProposal(proposal_id))
    kind, status, approvals, value, created, expires, target, proposer, name, uri = raw
    if status == ProposalStatus.NONE:
        raise InputError(f"there is no proposal {proposal_id}")
    now = int(consortium.w3.eth.get_block("latest")["timestamp"])
    return Proposal(
        id=proposal_id,
        kind=ProposalKind(kind).name,
        status=ProposalStatus(status).name,
        approvals=int(approvals),
        counted=int(tx.call(f.countedApprovals(proposal_id))),
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
        approved_by=[Web3.to_checksum_address(a) for a in tx.call(f.approvers(proposal_id))],
    )


def proposals(consortium: Contract, pending_only: bool = False) -> list[Proposal]:
    """Every proposal (ids 1..proposalCount), newest first; `pending_only` keeps open, unexpired ones."""
    count = int(tx.call(consortium.functions.proposalCount()))
    result = [get_proposal(consortium, pid) for pid in range(count, 0, -1)]
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


def operator_offers(consortium: Contract, member: str, from_block: int = 0) -> dict[str, str | None]:
    """`member`'s open offers: offered key -> the key it would replace (None for a plain addition).
    Candidates come from OperatorOffered events; the contract says which are still open."""
    address = checked_address(member, "member")
    logs = consortium.events.OperatorOffered().get_logs(
        from_block=from_block, argument_filters={"member": address}
    )
    offers: dict[str, str | None] = {}
    for key in dict.fromkeys(str(log["args"]["key"]) for log in logs):
        is_open, replaces = tx.call(consortium.functions.operatorOffer(address, key))
        if is_open:
            offers[key] = None if int(replaces, 16) == 0 else Web3.to_checksum_address(replaces)
    return offers


# ---- member self-service (the member address signs) and the key's consent (the key signs) ----


def offer_operator(consortium: Contract, sender: Signer, key: str, replaces: str | None = None) -> TxReceipt:
    """The member address offers `key` a place as operator key (replacing `replaces`: a rotation); the key
    joins when it accepts (`accept_operator`, signed by the key)."""
    new = checked_address(key, "key")
    old = ZERO_ADDRESS if replaces is None else checked_address(replaces, "old key")
    return tx.send(consortium.w3, consortium.functions.offerOperator(new, old), sender)


def accept_operator(consortium: Contract, key: Signer, member: str) -> TxReceipt:
    """Sent by the offered key: accept `member`'s offer and join as its operator key."""
    fn = consortium.functions.acceptOperator(checked_address(member, "member"))
    return tx.send(consortium.w3, fn, key)


def add_operator(consortium: Contract, member: Signer, key: Signer) -> TxReceipt:
    """Offer and accept in one go, for a caller that holds both the member's and the key's signer (demo,
    scripts); returns the acceptance."""
    offer_operator(consortium, member, signer_address(key))
    return accept_operator(consortium, key, signer_address(member))


def withdraw_operator_offer(consortium: Contract, sender: Signer, key: str) -> TxReceipt:
    fn = consortium.functions.withdrawOperatorOffer(checked_address(key, "key"))
    return tx.send(consortium.w3, fn, sender)


def remove_operator(consortium: Contract, sender: Signer, key: str) -> TxReceipt:
    return tx.send(consortium.w3, consortium.functions.removeOperator(checked_address(key, "key")), sender)


def rotate_operator(consortium: Contract, sender: Signer, old_key: str, new_key: str) -> TxReceipt:
    """Offer `new_key` as the replacement of `old_key`; the swap happens when the new key accepts."""
    return offer_operator(consortium, sender, new_key, old_key)


def update_profile(consortium: Contract, sender: Signer, name: str, uri: str) -> TxReceipt:
    return tx.send(consortium.w3, consortium.functions.updateProfile(name, uri), sender)


def _event(consortium: Contract, name: str, receipt: TxReceipt) -> Any:
    """The args of the first `name` event of `consortium` in `receipt` (other logs skipped quietly)."""
    for log in getattr(consortium.events, name)().process_receipt(receipt, errors=DISCARD):
        if log["address"] == consortium.address:
            return log["args"]
    raise ChainError(f"no {name} event in transaction {Web3.to_hex(receipt['transactionHash'])}")
