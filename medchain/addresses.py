"""Addresses given by people (CLI options, claim files, consent files, reports): one rule everywhere.

A 20-byte hex address, ``0x`` prefix optional (``0X`` is read as ``0x``), surrounding whitespace ignored. All
lower-case or all upper-case hex carries no checksum and is accepted; mixed case must be the EIP-55 checksum,
so a mistyped character is caught instead of silently naming another account.
"""

from __future__ import annotations

from eth_typing import ChecksumAddress
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from medchain.errors import InputError

__all__ = ["ZERO_ADDRESS", "address_problem", "checked_address"]

#: the zero address: "no such member / record / policy" in contract answers, "none" in arguments
ZERO_ADDRESS = "0x" + "00" * 20


def _normalised(value: str) -> str:
    text = value.strip()
    return "0x" + text[2:] if text[:2] == "0X" else text


def address_problem(value: object) -> str | None:
    """What is wrong with `value` as an address (a phrase to follow its name), or None if it is fine."""
    if not isinstance(value, str):
        return "is not a 20-byte hex address"
    text = _normalised(value)
    if not is_hex_address(text):
        return "is not a 20-byte hex address"
    digits = text.removeprefix("0x")
    if digits not in (digits.lower(), digits.upper()) and not is_checksum_address("0x" + digits):
        return "has a wrong checksum (mixed case must be EIP-55)"
    return None


def checked_address(value: object, what: str = "address") -> ChecksumAddress:
    """The checksum address `value` names, or an InputError naming `what` and the problem."""
    problem = address_problem(value)
    if problem is not None:
        raise InputError(f"{what} {value!r} {problem}")
    assert isinstance(value, str)
    return to_checksum_address("0x" + _normalised(value).removeprefix("0x"))
