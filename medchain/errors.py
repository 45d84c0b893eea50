"""One exception root for the whole package. This module imports nothing of the project: every other
module may import it (revert decoding from the project's ABIs is :mod:`medchain.reverts`).

Every failure a user can cause (bad input, a missing key, an unreachable node, a revert) is a
`MedchainError` whose `str()` is one line naming the problem; the CLI prints that line and exits 1.
"""

from __future__ import annotations

from typing import Any


def one_line(text: str) -> str:
    """`text` with line breaks and other non-printable characters escaped (``\\n``, ``\\x1b``,
    ``\\u2028``), so a message quoting user input (a file's key, an account name) stays one line and
    cannot drive a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


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
    """Unix seconds as an ISO date in UTC (as medchain.timefmt.iso; this module imports nothing of the
    project); 0 and values past year 9999 (uint64 "never") stay numbers."""
    import datetime as dt

    if not 0 < value <= 253402300799:
        return str(value)
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)
