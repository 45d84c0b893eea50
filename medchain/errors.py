"""One exception root for the whole package, and custom-error decoding from the project's ABIs.

Every failure a user can cause (bad input, a missing key, an unreachable node, a revert) is a
`MedchainError` whose `str()` is one line naming the problem; the CLI prints that line and exits 1.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from medchain import abi as _abi_pkg
from medchain.text import one_line

if TYPE_CHECKING:
    from eth_typing import ABI

# eth_abi, eth_utils and web3 load when a revert is decoded, not at import: `medchain --help` starts fast


class MedchainError(Exception):
    """Root of every error medchain raises on purpose. `str(err)` is a one-line message."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(MedchainError):
    """The user's input (a file, an argument, a scan) is malformed."""


class ConfigError(MedchainError):
    """Configuration is missing or inconsistent: network, keys, manifest."""


class ChainError(MedchainError):
    """The node could not be reached, or did not answer as expected (timeouts included)."""


class NodeLost(ChainError):
    """The node went away in the middle of the work (connection refused or reset, a request timed out):
    nothing further can succeed, so batch commands stop instead of failing every remaining item."""


class ContractRevert(MedchainError):
    """A contract call or transaction reverted; custom errors are decoded to their name and arguments."""

    def __init__(self, name: str, args: dict[str, Any] | None = None, raw: str = "") -> None:
        self.name = name
        self.args_dict: dict[str, Any] = dict(args or {})
        self.raw = raw
        super().__init__(self.describe())

    def describe(self) -> str:
        if not self.args_dict:
            return f"{self.name}()"
        shown = {k: _time(v) if _is_time(k, v) else _fmt(v) for k, v in self.args_dict.items()}
        inner = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"{self.name}({inner})"


#: custom-error arguments that are points in time (unix seconds): shown as ISO dates in UTC (issue 17)
_TIME_NAMES = frozenset({"validFrom", "validUntil", "decideBy", "until", "expiry", "currentTime", "deadline"})


def _is_time(name: str, value: Any) -> bool:
    timely = name in _TIME_NAMES or name.endswith("At")
    return timely and isinstance(value, int) and not isinstance(value, bool)


#: custom-error arguments that are token amounts (ClaimsManager, OpenZeppelin ERC-20 errors)
AMOUNT_NAMES = frozenset({
    "amount", "remaining", "coverage", "claimed", "pendingAmount", "threshold", "available", "needed",
    "balance", "allowance",
})  # fmt: skip


def in_token_units(exc: ContractRevert, fmt: Any) -> ContractRevert:
    """The same revert with its amount arguments rendered by `fmt` (base units -> "1,000.00 tCNY")."""
    args = {k: fmt(v) if k in AMOUNT_NAMES and isinstance(v, int) else v for k, v in exc.args_dict.items()}
    return ContractRevert(exc.name, args, exc.raw)


def _time(value: int) -> str:
    from medchain.timefmt import iso

    return iso(value) or str(value)


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


# Solidity's built-in revert payloads.
_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


@lru_cache(maxsize=1)
def _error_table() -> dict[bytes, dict[str, Any]]:
    """selector -> error ABI entry, over every ABI shipped in medchain/abi (and build/ when present)."""
    from eth_utils import function_abi_to_4byte_selector
    from web3.utils.abi import filter_abi_by_type

    table: dict[bytes, dict[str, Any]] = {}
    for abi in _abi_pkg.all_abis():
        for entry in filter_abi_by_type("error", cast("ABI", abi)):
            table.setdefault(function_abi_to_4byte_selector(entry), dict(entry))
    return table


def register_abi(abi: list[dict[str, Any]]) -> None:
    """Make a further ABI's custom errors decodable (e.g. a test harness)."""
    from eth_utils import function_abi_to_4byte_selector
    from web3.utils.abi import filter_abi_by_type

    table = _error_table()
    for entry in filter_abi_by_type("error", cast("ABI", abi)):
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
        from eth_utils import to_checksum_address

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
    from eth_abi import decode as abi_decode

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
    return ContractRevert(str(entry["name"]), args, "0x" + raw.hex())


def _abi_type(entry: dict[str, Any]) -> str:
    """ABI type string of an input, tuples expanded (``(uint256,address)[]``)."""
    abi_type = str(entry["type"])
    if abi_type.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry.get("components", []))
        return f"({inner}){abi_type[len('tuple'):]}"
    return abi_type
