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

    def __init__(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        raw: str = "",
        shown: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.args_dict: dict[str, Any] = dict(args or {})
        self.raw = raw
        #: how some arguments read in the message (times as dates, amounts in token units), given by whoever
        #: decoded the revert (medchain.reverts) or knows the token; `args_dict` keeps the raw values
        self.shown: dict[str, str] = dict(shown or {})
        super().__init__(self.describe())

    def describe(self) -> str:
        inner = ", ".join(f"{k}={self.shown.get(k, _fmt(v))}" for k, v in self.args_dict.items())
        return f"{self.name}({inner})"


#: custom-error arguments that are token amounts (ClaimsManager, OpenZeppelin ERC-20 errors)
AMOUNT_NAMES = frozenset({
    "amount", "remaining", "coverage", "claimed", "pendingAmount", "threshold", "available", "needed",
    "balance", "allowance",
})  # fmt: skip


def in_token_units(exc: ContractRevert, fmt: Any) -> ContractRevert:
    """The same revert with its amount arguments shown by `fmt` (base units -> "1,000.00 tCNY")."""
    amounts = {k: fmt(v) for k, v in exc.args_dict.items() if k in AMOUNT_NAMES and _is_int(v)}
    return ContractRevert(exc.name, exc.args_dict, exc.raw, exc.shown | amounts)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)
