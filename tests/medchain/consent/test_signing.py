"""medchain.signing without a chain: DESIGN §6.4 types and domain, digests cross-checked against an
independent encoding (eth_abi + keccak), signing/recovery, malleability, and parsing wallet JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from medchain import signing
from medchain.errors import InputError
from medchain.signing import ConsentGrant, ConsentRevoke, Domain

PATIENT = Account.from_key("0x" + "11" * 32)
GUARDIAN = Account.from_key("0x" + "33" * 32)
GRANTEE = "0x" + "ab" * 20
REGISTRY = "0x" + "cd" * 20
DOMAIN = Domain(31337, REGISTRY)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

GRANT_STRING = (
    "ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,"
    "uint64 validUntil,uint256 nonce,uint256 deadline)"
)
REVOKE_STRING = "ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)"


def grant_msg(**over: Any) -> ConsentGrant:
    fields: dict[str, Any] = dict(
        patient=PATIENT.address,
        grantee=GRANTEE,
        purpose=2,
        data_classes=(1 << 3) | (1 << 4),
        valid_from=0,
        valid_until=1_900_000_000,
        nonce=7,
        deadline=1_800_000_000,
    )
    fields.update(over)
    return ConsentGrant(**fields)


def revoke_msg(**over: Any) -> ConsentRevoke:
    fields: dict[str, Any] = dict(
        patient=PATIENT.address, grantee=GRANTEE, purpose=2, nonce=8, deadline=1_800_000_000
    )
    fields.update(over)
    return ConsentRevoke(**fields)


def independent_digest(type_string: str, values: list[tuple[str, Any]], domain: Domain) -> bytes:
    """EIP-712 digest computed from the spec with eth_abi + keccak, for cross-checking only."""
    domain_typehash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_typehash,
                keccak(text=domain.name),
                keccak(text=domain.version),
                domain.chain_id,
                domain.verifying_contract,
            ],
        )
    )
    struct_hash = keccak(
        encode(["bytes32"] + [t for t, _ in values], [keccak(text=type_string)] + [v for _, v in values])
    )
    return keccak(b"\x19\x01" + separator + struct_hash)


def test_type_strings_are_design_6_4() -> None:
    assert signing.type_string("ConsentGrant") == GRANT_STRING
    assert signing.type_string("ConsentRevoke") == REVOKE_STRING


def test_domain_is_design_6_4() -> None:
    assert DOMAIN.as_dict() == {
        "name": "MedChain ConsentRegistry",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": "0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD",
    }


def test_grant_digest_matches_independent_encoding() -> None:
    m = grant_msg()
    values = [
        ("address", m.patient),
        ("address", m.grantee),
        ("uint8", m.purpose),
        ("uint64", m.data_classes),
        ("uint64", m.valid_from),
        ("uint64", m.valid_until),
        ("uint256", m.nonce),
        ("uint256", m.deadline),
    ]
    assert signing.digest(m, DOMAIN) == independent_digest(GRANT_STRING, values, DOMAIN)


def test_revoke_digest_matches_independent_encoding() -> None:
    m = revoke_msg()
    values = [
        ("address", m.patient),
        ("address", m.grantee),
        ("uint8", m.purpose),
        ("uint256", m.nonce),
        ("uint256", m.deadline),
    ]
    assert signing.digest(m, DOMAIN) == independent_digest(REVOKE_STRING, values, DOMAIN)


def test_digest_depends_on_chain_and_contract() -> None:
    m = grant_msg()
    assert signing.digest(m, DOMAIN) != signing.digest(m, Domain(1, REGISTRY))
    assert signing.digest(m, DOMAIN) != signing.digest(m, Domain(31337, GRANTEE))


def test_sign_and_recover() -> None:
    m = grant_msg()
    sig = signing.sign(m, DOMAIN, PATIENT)
    assert len(sig) == 65 and sig[64] in (27, 28)
    assert int.from_bytes(sig[32:64], "big") <= N // 2  # canonical low s
    assert signing.recover(m, DOMAIN, sig) == PATIENT.address
    assert signing.verify(m, DOMAIN, sig, PATIENT.address)
    assert not signing.verify(m, DOMAIN, sig, GUARDIAN.address)


def test_guardian_signs_a_message_naming_the_patient() -> None:
    m = grant_msg()
    sig = signing.sign(m, DOMAIN, GUARDIAN)
    assert signing.recover(m, DOMAIN, sig) == GUARDIAN.address


def test_signature_equals_account_sign_typed_data() -> None:
    """Same bytes as eth_account's three-argument API (and so as MetaMask's eth_signTypedData_v4)."""
    m = grant_msg()
    signed = Account.sign_typed_data(
        PATIENT.key, DOMAIN.as_dict(), {"ConsentGrant": signing.GRANT_TYPE}, m.message()
    )
    assert signing.sign(m, DOMAIN, PATIENT) == bytes(signed.signature)


def test_changed_message_recovers_someone_else() -> None:
    sig = signing.sign(grant_msg(), DOMAIN, PATIENT)
    assert signing.recover(grant_msg(data_classes=1), DOMAIN, sig) != PATIENT.address
    assert signing.recover(grant_msg(), Domain(1, REGISTRY), sig) != PATIENT.address


def test_high_s_signature_is_rejected() -> None:
    m = grant_msg()
    sig = signing.sign(m, DOMAIN, PATIENT)
    twin = sig[:32] + (N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes([55 - sig[64]])
    with pytest.raises(InputError, match="high s"):
        signing.recover(m, DOMAIN, twin)
    assert not signing.verify(m, DOMAIN, twin, PATIENT.address)


def test_short_signature_is_rejected() -> None:
    with pytest.raises(InputError, match="65 bytes"):
        signing.recover(grant_msg(), DOMAIN, b"\x01" * 64)


@pytest.mark.parametrize(
    "over, problem",
    [
        ({"purpose": 0}, "purpose 0"),
        ({"purpose": 6}, "purpose 6"),
        ({"data_classes": 0}, "non-empty"),
        ({"data_classes": 1 << 11}, "bits 0..10"),
        ({"valid_from": 10, "valid_until": 9}, "before valid from"),
        ({"valid_until": 1 << 64}, "64-bit"),
        ({"nonce": -1}, "256-bit"),
        ({"patient": "0x1234"}, "20-byte"),
        ({"grantee": "0x" + "00" * 20}, "zero address"),
        ({"grantee": "0xABcdEFabcdEFabcdEfAbCdefabcdeFABcDEFabCD"}, "checksum"),
    ],
)
def test_invalid_grant_is_refused(over: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        grant_msg(**over)


def test_addresses_are_checksummed() -> None:
    m = grant_msg(patient=PATIENT.address.lower(), grantee=GRANTEE.upper().replace("0X", "0x"))
    assert m.patient == PATIENT.address
    assert m.grantee == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"


def test_domain_must_be_design_6_4() -> None:
    with pytest.raises(InputError, match="DESIGN"):
        Domain(31337, REGISTRY, name="Other")
    with pytest.raises(InputError, match="DESIGN"):
        Domain(31337, REGISTRY, version="2")
    with pytest.raises(InputError, match="chain id"):
        Domain(0, REGISTRY)


def test_typed_data_holds_only_the_signed_type() -> None:
    doc = signing.typed_data(revoke_msg(), DOMAIN)
    assert set(doc["types"]) == {"EIP712Domain", "ConsentRevoke"}
    assert doc["primaryType"] == "ConsentRevoke"
    assert doc["message"]["nonce"] == 8


def test_typed_data_round_trips_through_json() -> None:
    for m in (grant_msg(), revoke_msg()):
        doc = json.loads(json.dumps(signing.typed_data(m, DOMAIN)))
        assert signing.from_typed_data(doc) == (m, DOMAIN)


def test_from_typed_data_accepts_wallet_number_strings() -> None:
    doc = signing.typed_data(grant_msg(), DOMAIN)
    doc["message"] = {k: (str(v) if isinstance(v, int) else v) for k, v in doc["message"].items()}
    doc["message"]["deadline"] = hex(1_800_000_000)
    doc["domain"]["chainId"] = "0x7a69"
    assert signing.from_typed_data(doc) == (grant_msg(), DOMAIN)


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda d: d.update(primaryType="Mail"), "neither"),
        (lambda d: d["types"]["ConsentGrant"].pop(), "DESIGN"),
        (lambda d: d["types"]["ConsentGrant"][2].update(type="uint256"), "DESIGN"),
        (lambda d: d["domain"].update(name="MedChain"), "DESIGN"),
        (lambda d: d["domain"].pop("verifyingContract"), "domain needs"),
        (lambda d: d["message"].pop("nonce"), "no nonce"),
        (lambda d: d["message"].update(purpose="two"), "integer"),
        (lambda d: d["message"].update(dataClasses=True), "integer"),
        (lambda d: d.pop("message"), "needs types"),
    ],
)
def test_from_typed_data_rejects(mutate: Any, problem: str) -> None:
    doc = json.loads(json.dumps(signing.typed_data(grant_msg(), DOMAIN)))
    mutate(doc)
    with pytest.raises(InputError, match=problem):
        signing.from_typed_data(doc)
