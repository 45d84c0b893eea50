"""EIP-712 consent messages (DESIGN §6.4): typed data, signing, recovery and local verification.

Everything is built as the EIP-712 "full message" JSON that outside wallets sign (MetaMask's
`eth_signTypedData_v4`, `cast wallet sign --data`) and encoded by `eth_account.messages.encode_typed_data`;
nothing here encodes EIP-712 by hand. The domain is ``name = "MedChain ConsentRegistry"``, ``version = "1"``,
the chain id and the ConsentRegistry address; the two types are `ConsentGrant` and `ConsentRevoke`.

Pure functions, no chain access: `medchain.consent` reads the domain and the nonce from a chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account import Account
from eth_account.messages import SignableMessage, _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeysValidationError

from medchain.addresses import checked_address
from medchain.codes import ALL_CLASSES, PURPOSES
from medchain.errors import InputError

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "GRANT_TYPE",
    "REVOKE_TYPE",
    "ConsentGrant",
    "ConsentMessage",
    "ConsentRevoke",
    "Domain",
    "digest",
    "from_typed_data",
    "recover",
    "sign",
    "signable",
    "type_string",
    "typed_data",
    "verify",
]

DOMAIN_NAME = "MedChain ConsentRegistry"
DOMAIN_VERSION = "1"

EIP712_DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
#: ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,
#: uint64 validUntil,uint256 nonce,uint256 deadline)
GRANT_TYPE: list[dict[str, str]] = [
    {"name": "patient", "type": "address"},
    {"name": "grantee", "type": "address"},
    {"name": "purpose", "type": "uint8"},
    {"name": "dataClasses", "type": "uint64"},
    {"name": "validFrom", "type": "uint64"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
#: ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)
REVOKE_TYPE: list[dict[str, str]] = [
    {"name": "patient", "type": "address"},
    {"name": "grantee", "type": "address"},
    {"name": "purpose", "type": "uint8"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
_TYPES = {"ConsentGrant": GRANT_TYPE, "ConsentRevoke": REVOKE_TYPE}
_UINT_BITS = {"uint8": 8, "uint64": 64, "uint256": 256}


def type_string(primary_type: str) -> str:
    """The EIP-712 type string, e.g. ``ConsentRevoke(address patient,...,uint256 deadline)``."""
    fields = ",".join(f"{f['type']} {f['name']}" for f in _TYPES[primary_type])
    return f"{primary_type}({fields})"


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one ConsentRegistry deployment."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        contract = checked_address(self.verifying_contract, "verifyingContract")
        object.__setattr__(self, "verifying_contract", contract)
        if not isinstance(self.chain_id, int) or self.chain_id <= 0:
            raise InputError(f"chain id must be a positive integer, got {self.chain_id!r}")
        if (self.name, self.version) != (DOMAIN_NAME, DOMAIN_VERSION):
            raise InputError(
                f"EIP-712 domain {self.name!r} version {self.version!r} is not "
                f"{DOMAIN_NAME!r} version {DOMAIN_VERSION!r} (DESIGN §6.4)"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class ConsentGrant:
    """A `ConsentGrant` message: patient grants `grantee` the `data_classes` bitmap for `purpose`."""

    patient: str
    grantee: str
    purpose: int
    data_classes: int
    valid_from: int
    valid_until: int  # 0 = no end; else inclusive
    nonce: int
    deadline: int  # last second (inclusive) the signature may be used

    primary_type: ClassVar[str] = "ConsentGrant"

    def __post_init__(self) -> None:
        _check_common(self)
        if not 0 < self.data_classes <= ALL_CLASSES:
            raise InputError(f"data classes 0x{self.data_classes:x} must be a non-empty bitmap of bits 0..10")
        for name in ("valid_from", "valid_until"):
            _check_uint(name, getattr(self, name), 64)
        if self.valid_until and self.valid_until < self.valid_from:
            raise InputError(f"valid until {self.valid_until} is before valid from {self.valid_from}")

    def message(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "grantee": self.grantee,
            "purpose": self.purpose,
            "dataClasses": self.data_classes,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


@dataclass(frozen=True)
class ConsentRevoke:
    """A `ConsentRevoke` message: patient revokes its consent to `grantee` for `purpose`."""

    patient: str
    grantee: str
    purpose: int
    nonce: int
    deadline: int

    primary_type: ClassVar[str] = "ConsentRevoke"

    def __post_init__(self) -> None:
        _check_common(self)

    def message(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "grantee": self.grantee,
            "purpose": self.purpose,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


ConsentMessage = ConsentGrant | ConsentRevoke


def _check_uint(name: str, value: Any, bits: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise InputError(f"{name} must be an unsigned {bits}-bit integer, got {value!r}")


def _check_common(msg: ConsentGrant | ConsentRevoke) -> None:
    object.__setattr__(msg, "patient", checked_address(msg.patient, "patient"))
    object.__setattr__(msg, "grantee", checked_address(msg.grantee, "grantee"))
    if int(msg.patient, 16) == 0 or int(msg.grantee, 16) == 0:
        raise InputError("patient and grantee must not be the zero address")
    _check_uint("purpose", msg.purpose, 8)
    if msg.purpose not in PURPOSES.values():
        raise InputError(f"purpose {msg.purpose} is not one of {sorted(PURPOSES.values())} (DESIGN §6.2)")
    _check_uint("nonce", msg.nonce, 256)
    _check_uint("deadline", msg.deadline, 256)


def typed_data(msg: ConsentMessage, domain: Domain) -> dict[str, Any]:
    """The EIP-712 full message (JSON-ready) a wallet signs: only EIP712Domain and the message's own type
    (eth_account derives the primary type from `types`, so it must hold nothing else)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, msg.primary_type: _TYPES[msg.primary_type]},
        "primaryType": msg.primary_type,
        "domain": domain.as_dict(),
        "message": msg.message(),
    }


def signable(msg: ConsentMessage, domain: Domain) -> SignableMessage:
    return encode_typed_data(full_message=typed_data(msg, domain))


def digest(msg: ConsentMessage, domain: Domain) -> bytes:
    """The 32-byte hash the contract verifies (`_hashTypedDataV4(structHash)`)."""
    return bytes(_hash_eip191_message(signable(msg, domain)))


def sign(msg: ConsentMessage, domain: Domain, account: LocalAccount) -> bytes:
    """65-byte `r || s || v` signature (v = 27/28, low s) by a local key: the patient's or its guardian's."""
    return bytes(account.sign_message(signable(msg, domain)).signature)


def recover(msg: ConsentMessage, domain: Domain, signature: bytes) -> str:
    """The address whose key made `signature` over the message (checksum). Raises InputError for a
    signature that is not 65 bytes or not canonical (high s), which the contract rejects as well."""
    if len(signature) != 65:
        raise InputError(f"an ECDSA signature is 65 bytes (r || s || v), got {len(signature)}")
    if int.from_bytes(signature[32:64], "big") > _HALF_N:
        raise InputError("signature has a high s value (malleable form); the contract rejects it")
    try:
        return str(Account.recover_message(signable(msg, domain), signature=signature))
    except (ValueError, TypeError, BadSignature, KeysValidationError) as exc:  # e.g. r or s 0 or >= n
        raise InputError(f"signature does not recover a signer: {exc}") from None


def verify(msg: ConsentMessage, domain: Domain, signature: bytes, signer: str) -> bool:
    """True if `signer`'s key made `signature` (ECDSA only; an ERC-1271 wallet can only be asked on chain)."""
    try:
        return recover(msg, domain, signature) == checked_address(signer, "signer")
    except InputError:
        return False


_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _uint_value(raw: Any, name: str) -> int:
    """A uint from typed-data JSON: a number, or a decimal / 0x-hex string (wallet JSON uses all three)."""
    if isinstance(raw, bool):
        raise InputError(f"{name} must be an integer, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            pass
    raise InputError(f"{name} must be an integer or a decimal/hex string, got {raw!r}")


def from_typed_data(doc: dict[str, Any]) -> tuple[ConsentMessage, Domain]:
    """Parse and check EIP-712 typed data (e.g. from a signed-consent file or a wallet export): the domain
    must be DESIGN §6.4's and the types exactly ConsentGrant or ConsentRevoke."""
    try:
        primary = doc["primaryType"]
        types, raw_domain, raw_msg = doc["types"], doc["domain"], doc["message"]
    except (KeyError, TypeError):
        raise InputError("typed data needs types, primaryType, domain and message") from None
    if not (isinstance(types, dict) and isinstance(raw_domain, dict) and isinstance(raw_msg, dict)):
        raise InputError("typed data's types, domain and message must be JSON objects")
    if not isinstance(primary, str) or primary not in _TYPES:
        raise InputError(f"primaryType {primary!r} is neither ConsentGrant nor ConsentRevoke")
    if types.get(primary) != _TYPES[primary]:
        raise InputError(f"types.{primary} is not DESIGN §6.4's: {type_string(primary)}")
    if "EIP712Domain" in types and types["EIP712Domain"] != EIP712_DOMAIN_TYPE:
        raise InputError("types.EIP712Domain must be (name, version, chainId, verifyingContract)")
    try:
        domain = Domain(
            chain_id=_uint_value(raw_domain["chainId"], "chainId"),
            verifying_contract=raw_domain["verifyingContract"],
            name=raw_domain["name"],
            version=raw_domain["version"],
        )
    except (KeyError, TypeError):
        raise InputError("domain needs name, version, chainId and verifyingContract") from None
    missing = [f["name"] for f in _TYPES[primary] if f["name"] not in raw_msg]
    if missing:
        raise InputError(f"message has no {', '.join(missing)}")
    patient, grantee = str(raw_msg["patient"]), str(raw_msg["grantee"])
    n = {
        f["name"]: _uint_value(raw_msg[f["name"]], f["name"])
        for f in _TYPES[primary]
        if f["type"] != "address"
    }
    msg: ConsentMessage
    if primary == "ConsentGrant":
        msg = ConsentGrant(
            patient, grantee, n["purpose"], n["dataClasses"], n["validFrom"], n["validUntil"], n["nonce"],
            n["deadline"],
        )  # fmt: skip
    else:
        msg = ConsentRevoke(patient, grantee, n["purpose"], n["nonce"], n["deadline"])
    return msg, domain
