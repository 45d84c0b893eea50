"""Revert decoding: Solidity's ``Error(string)``, ``Panic(uint256)`` and every custom error of the
project's ABIs (medchain/abi, and build/ in a development checkout), by name and arguments."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_typing import ABI
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3.utils.abi import filter_abi_by_type

from medchain import abi as _abi_pkg
from medchain.errors import ContractRevert
from medchain.timefmt import MAX_DATE, iso

__all__ = ["decode_revert", "register_abi", "shown_times"]

# Solidity's built-in revert payloads.
_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


@lru_cache(maxsize=1)
def _error_table() -> dict[bytes, dict[str, Any]]:
    """selector -> error ABI entry, over every ABI shipped in medchain/abi (and build/ when present)."""
    table: dict[bytes, dict[str, Any]] = {}
    for abi in _abi_pkg.all_abis():
        for entry in filter_abi_by_type("error", cast(ABI, abi)):
            table.setdefault(function_abi_to_4byte_selector(entry), dict(entry))
    return table


def register_abi(abi: list[dict[str, Any]]) -> None:
    """Make a further ABI's custom errors decodable (e.g. a test harness)."""
    table = _error_table()
    for entry in filter_abi_by_type("error", cast(ABI, abi)):
        table.setdefault(function_abi_to_4byte_selector(entry), dict(entry))


def _to_bytes(data: Any) -> bytes | None:
    if data is None:
        return None
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        match = re.search(r"0x[0-9a-fA-F]{8,}", data)
        if match is None:
            return None
        return bytes.fromhex(match.group(0)[2:])
    if isinstance(data, dict):
        return _to_bytes(data.get("data"))
    if isinstance(data, (tuple, list)) and data:
        return _to_bytes(data[-1] if isinstance(data[-1], (str, bytes)) else data[0])
    return None


def _normalise(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, tuple):
        return tuple(_normalise(v, "") for v in value)
    return value


def decode_revert(data: Any) -> ContractRevert | None:
    """Decode revert data (bytes, a hex string, or an error message containing one) by name.

    Returns None when there is no revert payload to decode.
    """
    raw = _to_bytes(data)
    if raw is None or len(raw) < 4:
        return None
    selector, body = raw[:4], raw[4:]
    if selector == _ERROR_STRING:
        (message,) = abi_decode(["string"], body)
        return ContractRevert("Error", {"message": message}, "0x" + raw.hex())
    if selector == _PANIC:
        (code,) = abi_decode(["uint256"], body)
        return ContractRevert("Panic", {"code": hex(code)}, "0x" + raw.hex())
    entry = _error_table().get(selector)
    if entry is None:
        return ContractRevert("UnknownError", {"selector": "0x" + selector.hex()}, "0x" + raw.hex())
    types = [_abi_type(i) for i in entry.get("inputs", [])]
    try:
        values = abi_decode(types, body)
    except Exception:  # a truncated payload (e.g. only the selector survived in a node's message)
        return ContractRevert(str(entry["name"]), {"undecoded": "0x" + body.hex()}, "0x" + raw.hex())
    names = [i.get("name") or f"arg{n}" for n, i in enumerate(entry.get("inputs", []))]
    args = {n: _normalise(v, t) for n, v, t in zip(names, values, types, strict=True)}
    return ContractRevert(str(entry["name"]), args, "0x" + raw.hex(), shown_times(args))


#: custom-error arguments that are points in time (unix seconds): shown as ISO dates in UTC (issue 17)
_TIME_NAMES = frozenset({"validFrom", "validUntil", "decideBy", "until", "expiry", "currentTime", "deadline"})


def shown_times(args: dict[str, Any]) -> dict[str, str]:
    """The time arguments of a custom error (`validFrom`, `…At`) as ISO dates in UTC; 0 and values past year
    9999 (uint64 "never") stay numbers."""
    return {
        name: iso(value)
        for name, value in args.items()
        if (name in _TIME_NAMES or name.endswith("At"))
        and isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < value <= MAX_DATE
    }


def _abi_type(entry: dict[str, Any]) -> str:
    """ABI type string of an input, tuples expanded (``(uint256,address)[]``)."""
    abi_type = str(entry["type"])
    if abi_type.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry.get("components", []))
        return f"({inner}){abi_type[len('tuple') :]}"
    return abi_type
