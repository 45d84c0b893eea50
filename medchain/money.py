"""Token amounts, the one place that turns decimal text into base units and base units into text.

Amounts on chain are integers of the settlement token's base units (``decimals`` places); people give and read
them as decimals (``1,234.50 tCNY``). Claim files, CLI options, reports, revert messages and the demo all go
through here, so an amount is parsed and printed the same way everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from medchain.errors import InputError

__all__ = [
    "UINT96_MAX",
    "UINT128_MAX",
    "Currency",
    "format_units",
    "scaled_units",
    "to_units",
]

UINT96_MAX = 2**96 - 1
UINT128_MAX = 2**128 - 1
#: ``1234.50`` or, with thousands separators, ``1,234.50``; a comma is never a decimal point
_AMOUNT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?|[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")


def scaled_units(value: Decimal, decimals: int, text: object = None) -> int:
    """`value` in base units of a token with `decimals` places; InputError naming the amount (as `text`,
    default `value`) if it is finer than that."""
    units = value.scaleb(decimals)
    if units != units.to_integral_value():
        raise InputError(f"amount {value if text is None else text} has more than {decimals} decimal places")
    return int(units)


def to_units(amount: str | Decimal, decimals: int, *, limit: int = UINT96_MAX, symbol: str = "") -> int:
    """Base units of a decimal amount given as text (``"1234.50"``, ``"1,234.50"``); InputError if it is
    malformed, not positive, finer than `decimals`, or over `limit` base units (the contract keeps amounts in
    uint96). A comma is only a thousands separator: ``"1,50"`` is refused, not read as 150."""
    text = str(amount).strip()
    if isinstance(amount, Decimal):
        value = amount
    elif _AMOUNT_TEXT.fullmatch(text):
        value = Decimal(text.replace(",", ""))
    else:
        raise InputError(f"amount {text!r} is not a decimal number like 1234.50 or 1,234.50")
    if not value.is_finite() or value <= 0:
        raise InputError(f"amount {text!r} must be a positive number")
    largest = format_units(limit, decimals, symbol)
    if value.adjusted() > 40:  # far over any uint96 amount; keeps scaleb() inside the decimal context
        raise InputError(f"amount {text!r} is too large (at most {largest})")
    units = scaled_units(value, decimals, repr(text))
    if units > limit:
        raise InputError(f"amount {text!r} is too large (at most {largest})")
    return units


def format_units(units: int, decimals: int | None, symbol: str = "") -> str:
    """``1,234.50 tCNY``; with `decimals` None (the token is not known) ``123,450 units``."""
    if decimals is None:
        return f"{int(units):,} units"
    value = Decimal(int(units)).scaleb(-decimals)
    return f"{value:,.{decimals}f} {symbol}".strip()


@dataclass(frozen=True)
class Currency:
    """The settlement token: converts between decimal currency amounts and base units."""

    address: str
    symbol: str
    decimals: int

    def units(self, amount: str | Decimal, *, limit: int = UINT96_MAX) -> int:
        """Base units of `amount` (see :func:`to_units`)."""
        return to_units(amount, self.decimals, limit=limit, symbol=self.symbol)

    def fmt(self, units: int) -> str:
        """``1,234.50 tCNY``."""
        return format_units(units, self.decimals, self.symbol)
