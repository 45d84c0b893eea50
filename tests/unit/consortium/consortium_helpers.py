"""Constants and helpers for the Consortium unit tests (imported by the test modules of this folder)."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

# IConsortium.MemberStatus / ProposalStatus
NONE, ACTIVE, SUSPENDED = 0, 1, 2
PENDING, EXECUTED, CANCELLED = 1, 2, 3
ZERO = "0x" + "00" * 20
DAY = 24 * 3600
LIFETIME = 7 * DAY


def role_arg(name: str) -> str:
    """A role id as brownie prints a bytes32 error argument (a Python bytes repr), for reverts_with."""
    return repr(keccak(text=name))


def propose(
    c: Any, proposer: Any, kind: int, target: Any, value: int = 0, name: str = "", uri: str = ""
) -> int:
    """Propose and return the new proposal id."""
    return int(c.propose(kind, target, value, name, uri, {"from": proposer}).return_value)


def passed(
    c: Any,
    proposer: Any,
    kind: int,
    target: Any,
    value: int = 0,
    approvers: tuple = (),
    name: str = "",
    uri: str = "",
) -> Any:
    """Propose, collect `approvers`' approvals, execute; returns the execute transaction."""
    pid = propose(c, proposer, kind, target, value, name, uri)
    for approver in approvers:
        c.approve(pid, {"from": approver})
    return c.execute(pid, {"from": proposer})
