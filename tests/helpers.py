"""Shared test helpers: custom-error assertions, role constants, admission through governance."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import brownie
from eth_utils import keccak

ROLE_NAMES = ("COUNCIL", "HOSPITAL", "INSURER", "MANUFACTURER", "DISTRIBUTOR", "PHARMACY", "AUDITOR")
ROLE_ID = {name: "0x" + keccak(text=name).hex() for name in ROLE_NAMES}
ROLE_BIT = {name: 1 << i for i, name in enumerate(ROLE_NAMES)}

# IConsortium.ProposalKind
ADMIT, SUSPEND, REINSTATE, SET_ROLES, SET_THRESHOLD, REMOVE_OPERATOR = 1, 2, 3, 4, 5, 6
ZERO_ADDRESS = "0x" + "00" * 20

DAY = 24 * 3600


def roles(*names: str) -> int:
    """Role bitmap for role names."""
    mask = 0
    for name in names:
        mask |= ROLE_BIT[name]
    return mask


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, bytes):
        return repr(value)  # brownie prints bytes32 error arguments as a Python bytes repr
    if hasattr(value, "address"):
        return str(value.address).lower()
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return str(value)


@contextmanager
def reverts_with(error: str, *args: Any) -> Iterator[None]:
    """Expect a revert with custom error `error`; with args, also its arguments in order.

    brownie 1.22 decodes custom errors as ``"Name: arg1, arg2"`` with addresses in lower case.
    """
    if args:
        pattern = re.escape(f"{error}: " + ", ".join(_fmt(a) for a in args)) + "$"
    else:
        pattern = re.escape(error) + r"(: .*)?$"
    with brownie.reverts(revert_pattern=pattern):
        yield


def admit(consortium: Any, council: Any, member: Any, role_mask: int, name: str = "", uri: str = "") -> None:
    """Admit `member` with `role_mask` through a threshold-1 council (propose auto-approves, then execute)."""
    label = name or f"member {str(member)[:8]}"
    tx = consortium.propose(ADMIT, member, role_mask, label, uri, {"from": council})
    consortium.execute(tx.return_value, {"from": council})


def add_operator(consortium: Any, member: Any, key: Any) -> Any:
    """Register `key` as `member`'s operator key: the member offers, the key accepts (its consent).
    Returns the accepting transaction."""
    consortium.offerOperator(key, ZERO_ADDRESS, {"from": member})
    return consortium.acceptOperator(member, {"from": key})


def make_files(directory: Path, n: int, tag: str, *, unique: bool = False) -> list[Path]:
    """`n` small record files `<tag>-0000.txt`...; `unique` adds the time, so a chain shared by several tests
    never sees the same content twice."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = directory / f"{tag}-{i:04d}.txt"
        path.write_text(f"record {tag} {i}" + (f" {time.time_ns()}" if unique else ""))
        paths.append(path)
    return paths
