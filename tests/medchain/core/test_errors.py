"""Revert decoding: custom errors by name and arguments, Error(string), Panic, unknown selectors."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from medchain.errors import ContractRevert, MedchainError
from medchain.reverts import decode_revert, shown_times


def payload(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def test_custom_error_decoded_with_names_and_values() -> None:
    role = keccak(text="HOSPITAL")
    data = payload(
        "ConsortiumUnauthorized(address,bytes32)", ["address", "bytes32"], ["0x" + "ab" * 20, role]
    )
    err = decode_revert(data)
    assert isinstance(err, ContractRevert) and isinstance(err, MedchainError)
    assert err.name == "ConsortiumUnauthorized"
    assert err.args_dict["account"] == to_checksum_address("0x" + "ab" * 20)
    assert err.args_dict["role"] == role
    assert str(err).startswith("ConsortiumUnauthorized(account=0x")
    assert "role=0x" + role.hex() in str(err)


def test_decoded_from_a_hex_string_inside_a_node_message() -> None:
    data = payload("ConsortiumUnknownProposal(uint256)", ["uint256"], [7])
    err = decode_revert(f"execution reverted: custom error 0x{data.hex()}")
    assert err is not None and str(err) == "ConsortiumUnknownProposal(proposalId=7)"


def test_error_string_and_panic() -> None:
    assert str(decode_revert(payload("Error(string)", ["string"], ["nope"]))) == "Error(message=nope)"
    assert str(decode_revert(payload("Panic(uint256)", ["uint256"], [0x11]))) == "Panic(code=0x11)"


def test_unknown_selector_is_named_not_hidden() -> None:
    err = decode_revert(bytes.fromhex("deadbeef"))
    assert err is not None and err.name == "UnknownError"
    assert err.args_dict == {"selector": "0xdeadbeef"}


@pytest.mark.parametrize("data", [None, b"", b"\x01\x02", "no hex here", {"data": None}])
def test_no_payload_gives_none(data: object) -> None:
    assert decode_revert(data) is None


def test_time_arguments_read_as_iso_dates() -> None:
    """Issue 17: `ConsentInvalidPeriod(validFrom=1577836800, …)` was unreadable; args keep the raw value."""
    from medchain.errors import ContractRevert

    args = {"validFrom": 1577836800, "validUntil": 2**64 - 1}
    err = ContractRevert("ConsentInvalidPeriod", args, shown=shown_times(args))
    assert str(err) == "ConsentInvalidPeriod(validFrom=2020-01-01T00:00:00Z, validUntil=18446744073709551615)"
    assert err.args_dict["validFrom"] == 1577836800
    plain_args = {"anchoredAt": 0, "decisionWindow": 86400}
    plain = ContractRevert("X", plain_args, shown=shown_times(plain_args))
    assert str(plain) == "X(anchoredAt=0, decisionWindow=86400)"
