"""medchain.addresses: the one rule for addresses people type, used by every parser and CLI option."""

from __future__ import annotations

import pytest

from medchain.addresses import address_problem, checked_address
from medchain.errors import InputError

CHECKSUM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # the EIP-55 example


@pytest.mark.parametrize(
    "text",
    [CHECKSUM, CHECKSUM.lower(), "0x" + CHECKSUM[2:].upper(), CHECKSUM[2:], f"  {CHECKSUM}\t",
     "0X" + CHECKSUM[2:], "0X" + CHECKSUM[2:].lower()],
)  # fmt: skip
def test_accepted_spellings_give_the_checksum_address(text: str) -> None:
    assert address_problem(text) is None
    assert checked_address(text, "holder") == CHECKSUM


@pytest.mark.parametrize(
    ("value", "problem"),
    [("0x1234", "is not a 20-byte hex address"), ("", "is not a 20-byte hex address"),
     (CHECKSUM + "00", "is not a 20-byte hex address"), ("0x" + "g" * 40, "is not a 20-byte hex address"),
     (None, "is not a 20-byte hex address"), (12, "is not a 20-byte hex address"),
     ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "has a wrong checksum (mixed case must be EIP-55)"),
     ("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "has a wrong checksum (mixed case must be EIP-55)")],
)  # fmt: skip
def test_problems_are_named_with_what_and_the_value(value: object, problem: str) -> None:
    assert address_problem(value) == problem
    with pytest.raises(InputError) as caught:
        checked_address(value, "holder")
    assert str(caught.value) == f"holder {value!r} {problem}"


def test_every_module_uses_the_same_rule() -> None:
    """The library's entry points answer alike for the same input (they used to differ on '0X' and case)."""
    from medchain import consortium, records, signing
    from medchain.cli.options import address_arg

    upper = "0X" + CHECKSUM[2:].upper()
    assert address_arg(upper) == records.checked_address(upper) == CHECKSUM
    assert consortium.proposal_request("suspend", upper).target == CHECKSUM
    bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"
    for fn in (address_arg, records.checked_address):
        with pytest.raises(InputError, match="wrong checksum"):
            fn(bad)
    with pytest.raises(InputError, match="wrong checksum"):
        consortium.proposal_request("suspend", bad)
    with pytest.raises(InputError, match="wrong checksum"):
        signing.ConsentRevoke(patient=bad, grantee=CHECKSUM, purpose=1, nonce=0, deadline=1)
