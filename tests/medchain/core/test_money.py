"""medchain.money: the one reading and printing of token amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medchain.errors import InputError
from medchain.money import UINT96_MAX, UINT128_MAX, Currency, format_units, scaled_units, to_units

TOKEN = Currency("0x" + "00" * 20, "tCNY", 2)


@pytest.mark.parametrize(
    ("text", "units"),
    [("1234.50", 123_450), ("1,234.50", 123_450), ("1,234,567", 123_456_700), (" 0.01 ", 1), ("7", 700)],
)
def test_amounts_read_as_base_units(text: str, units: int) -> None:
    assert TOKEN.units(text) == units == to_units(text, 2)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("1,50", "is not a decimal number"), ("12,34.5", "is not a decimal number"),
     ("1.5e3", "is not a decimal number"),
     ("0", "must be a positive number"), ("0.00", "must be a positive number"),
     ("0.005", "has more than 2 decimal places"), ("9" * 60, "is too large")],
)  # fmt: skip
def test_bad_amounts_are_one_line_input_errors(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        TOKEN.units(text)


def test_the_limit_is_uint96_unless_said_and_is_shown_in_token_units() -> None:
    largest = format_units(UINT96_MAX, 2, "tCNY")
    assert TOKEN.units(largest.removesuffix(" tCNY")) == UINT96_MAX
    with pytest.raises(InputError, match=f"at most {largest}"):
        TOKEN.units(format_units(UINT96_MAX + 1, 2))
    assert TOKEN.units(format_units(UINT96_MAX + 1, 2), limit=UINT128_MAX) == UINT96_MAX + 1


def test_formatting_round_trips_and_knows_unknown_tokens() -> None:
    assert TOKEN.fmt(123_450) == "1,234.50 tCNY" == format_units(123_450, 2, "tCNY")
    assert format_units(123_450, 0) == "123,450"
    assert format_units(123_450, None) == "123,450 units"
    assert TOKEN.units(TOKEN.fmt(987_654_321).removesuffix(" tCNY")) == 987_654_321


def test_claim_file_amounts_scale_with_the_same_rule() -> None:
    assert scaled_units(Decimal("60.5"), 2) == 6050
    with pytest.raises(InputError, match="^amount 60.005 has more than 2 decimal places$"):
        scaled_units(Decimal("60.005"), 2)
