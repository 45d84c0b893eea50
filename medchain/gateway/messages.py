"""The record gateway's signed requests (docs/RECORD-EXCHANGE.md): EIP-712 typed data, wire format, recovery.

Domain ``name = "MedChain RecordGateway"``, ``version = "1"``, the chain id and, as ``verifyingContract``,
the RecordRegistry the records are anchored in. Two types::

    RecordRequest(address requester,bytes32 leaf,uint8 purpose,bytes32 accessTx,bytes responseKey,bytes32 requestId,uint64 expiresAt)
    RecordListRequest(address requester,address patient,uint8 purpose,bytes responseKey,bytes32 requestId,uint64 expiresAt)

The wire form is ``{"typedData": <EIP-712 full message>, "signature": "0x<65 bytes>"}``: the same typed data
a wallet signs with ``eth_signTypedData_v4``. Encoding and recovery go through
``eth_account.messages.encode_typed_data``; nothing is encoded by hand here.
"""  # noqa: E501

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeysValidationError

from medchain.addresses import checked_address
from medchain.codes import PURPOSES
from medchain.errors import InputError

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "LIST_TYPE",
    "RECORD_TYPE",
    "GatewayDomain",
    "ListRequest",
    "RecordRequest",
    "SignedRequest",
    "expiry",
    "new_request_id",
    "type_string",
]

DOMAIN_NAME = "MedChain RecordGateway"
DOMAIN_VERSION = "1"
ZERO32 = b"\x00" * 32

EIP712_DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
RECORD_TYPE: list[dict[str, str]] = [
    {"name": "requester", "type": "address"},
    {"name": "leaf", "type": "bytes32"},
    {"name": "purpose", "type": "uint8"},
    {"name": "accessTx", "type": "bytes32"},
    {"name": "responseKey", "type": "bytes"},
    {"name": "requestId", "type": "bytes32"},
    {"name": "expiresAt", "type": "uint64"},
]
LIST_TYPE: list[dict[str, str]] = [
    {"name": "requester", "type": "address"},
    {"name": "patient", "type": "address"},
    {"name": "purpose", "type": "uint8"},
    {"name": "responseKey", "type": "bytes"},
    {"name": "requestId", "type": "bytes32"},
    {"name": "expiresAt", "type": "uint64"},
]
_TYPES = {"RecordRequest": RECORD_TYPE, "RecordListRequest": LIST_TYPE}
_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_KEY_SIZES = (33, 65)  # secp256k1 public key, compressed or uncompressed


def type_string(primary_type: str) -> str:
    fields = ",".join(f"{f['type']} {f['name']}" for f in _TYPES[primary_type])
    return f"{primary_type}({fields})"


def new_request_id() -> bytes:
    """A fresh random request id (the replay-protection nonce)."""
    return os.urandom(32)


@dataclass(frozen=True)
class GatewayDomain:
    """The EIP-712 domain of the gateways of one RecordRegistry deployment."""

    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "verifying_contract", checked_address(self.verifying_contract, "verifyingContract")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def _message(request: RecordRequest | ListRequest) -> dict[str, Any]:
    """The EIP-712 message of a request: its type's fields (camelCase) from the attributes (snake_case),
    bytes as 0x-hex."""
    out: dict[str, Any] = {}
    for entry in _TYPES[request.primary_type]:
        value = getattr(request, _SNAKE.get(entry["name"], entry["name"]))
        out[entry["name"]] = _hex(value) if isinstance(value, bytes) else value
    return out


_SNAKE = {
    "accessTx": "access_tx",
    "responseKey": "response_key",
    "requestId": "request_id",
    "expiresAt": "expires_at",
}


@dataclass(frozen=True)
class RecordRequest:
    """Release one record (by its leaf) to ``requester`` for ``purpose``, logged by ``access_tx``."""

    primary_type: ClassVar[str] = "RecordRequest"
    requester: str
    leaf: bytes
    purpose: int
    access_tx: bytes
    response_key: bytes
    request_id: bytes
    expires_at: int

    def message(self) -> dict[str, Any]:
        return _message(self)


@dataclass(frozen=True)
class ListRequest:
    """List ``patient``'s records this gateway may release to ``requester`` for ``purpose``."""

    primary_type: ClassVar[str] = "RecordListRequest"
    requester: str
    patient: str
    purpose: int
    response_key: bytes
    request_id: bytes
    expires_at: int

    def message(self) -> dict[str, Any]:
        return _message(self)


Request = RecordRequest | ListRequest


def typed_data(request: Request, domain: GatewayDomain) -> dict[str, Any]:
    """The EIP-712 full message (JSON-ready) a wallet signs."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, request.primary_type: _TYPES[request.primary_type]},
        "primaryType": request.primary_type,
        "domain": domain.as_dict(),
        "message": request.message(),
    }


def _signable(doc: dict[str, Any]) -> SignableMessage:
    return encode_typed_data(full_message=doc)


@dataclass(frozen=True)
class SignedRequest:
    """A request, its domain and the signature, as sent on the wire."""

    request: Request
    domain: GatewayDomain
    signature: bytes

    @classmethod
    def sign(cls, request: Request, domain: GatewayDomain, account: LocalAccount) -> SignedRequest:
        signature = account.sign_message(_signable(typed_data(request, domain))).signature
        return cls(request, domain, bytes(signature))

    def to_json(self) -> dict[str, Any]:
        return {"typedData": typed_data(self.request, self.domain), "signature": _hex(self.signature)}

    def signer(self) -> str:
        """The address whose key signed (InputError for a malformed or non-canonical signature)."""
        if len(self.signature) != 65:
            raise InputError(f"a signature is 65 bytes (r || s || v), got {len(self.signature)}")
        if int.from_bytes(self.signature[32:64], "big") > _HALF_N:
            raise InputError("signature has a high s value (malleable form)")
        try:
            signable = _signable(typed_data(self.request, self.domain))
            return str(Account.recover_message(signable, signature=self.signature))
        except (ValueError, TypeError, BadSignature, KeysValidationError) as exc:
            raise InputError(f"signature does not recover a signer: {exc}") from None

    @classmethod
    def from_json(cls, body: Any) -> SignedRequest:
        """Parses and checks the wire form: exactly our types and domain name/version, well-formed values."""
        if not isinstance(body, dict) or not isinstance(body.get("typedData"), dict):
            raise InputError("the body must be a JSON object with typedData and signature")
        doc = body["typedData"]
        primary = doc.get("primaryType")
        types, raw_domain, raw = doc.get("types"), doc.get("domain"), doc.get("message")
        if not isinstance(primary, str) or primary not in _TYPES:
            raise InputError(f"primaryType {primary!r} is neither RecordRequest nor RecordListRequest")
        if not isinstance(types, dict) or types.get(primary) != _TYPES[primary]:
            raise InputError(f"types.{primary} is not {type_string(primary)}")
        if types.get("EIP712Domain", EIP712_DOMAIN_TYPE) != EIP712_DOMAIN_TYPE or set(types) - {
            "EIP712Domain",
            primary,
        }:
            raise InputError("types must hold only EIP712Domain (name, version, chainId, verifyingContract) "
                             f"and {primary}")  # fmt: skip
        if not isinstance(raw_domain, dict) or not isinstance(raw, dict):
            raise InputError("typedData.domain and typedData.message must be JSON objects")
        if (raw_domain.get("name"), raw_domain.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
            raise InputError(f"EIP-712 domain must be {DOMAIN_NAME!r} version {DOMAIN_VERSION!r}")
        domain = GatewayDomain(
            _uint(raw_domain.get("chainId"), "chainId", 256), str(raw_domain.get("verifyingContract"))
        )
        request: Request
        if primary == "RecordRequest":
            request = RecordRequest(
                requester=_address(raw, "requester"),
                leaf=_bytes32(raw, "leaf"),
                purpose=_purpose(raw),
                access_tx=_bytes32(raw, "accessTx"),
                response_key=_key(raw),
                request_id=_bytes32(raw, "requestId"),
                expires_at=_uint(raw.get("expiresAt"), "expiresAt", 64),
            )
        else:
            request = ListRequest(
                requester=_address(raw, "requester"),
                patient=_address(raw, "patient"),
                purpose=_purpose(raw),
                response_key=_key(raw),
                request_id=_bytes32(raw, "requestId"),
                expires_at=_uint(raw.get("expiresAt"), "expiresAt", 64),
            )
        return cls(request, domain, _raw_bytes(body.get("signature"), "signature"))


def expiry(lifetime: int = 300) -> int:
    """An expiry ``lifetime`` seconds from now (wall clock, what gateways compare with)."""
    return int(time.time()) + lifetime


# ---- value parsing ----


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _raw_bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(f"{name} must be a 0x-hex string")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise InputError(f"{name} is not hex") from None


def _bytes32(raw: dict[str, Any], name: str) -> bytes:
    value = _raw_bytes(raw.get(name), name)
    if len(value) != 32:
        raise InputError(f"{name} must be 32 bytes, got {len(value)}")
    return value


def _key(raw: dict[str, Any]) -> bytes:
    value = _raw_bytes(raw.get("responseKey"), "responseKey")
    if len(value) not in _KEY_SIZES:
        raise InputError(f"responseKey must be a secp256k1 public key (33 or 65 bytes), got {len(value)}")
    return value


def _address(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise InputError(f"{name} must be an address string")
    return checked_address(value, name)


def _uint(value: Any, name: str, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError(f"{name} must be an unsigned integer")
    try:
        number = value if isinstance(value, int) else int(value, 0)
    except ValueError:
        raise InputError(f"{name} must be an unsigned integer") from None
    if not 0 <= number < 2**bits:
        raise InputError(f"{name} must be an unsigned {bits}-bit integer")
    return number


def _purpose(raw: dict[str, Any]) -> int:
    purpose = _uint(raw.get("purpose"), "purpose", 8)
    if purpose not in PURPOSES.values():
        raise InputError(f"purpose {purpose} is not one of {sorted(PURPOSES.values())} (DESIGN §6.2)")
    return purpose
