"""Constants, clock control and EIP-712 signing for the ConsentRegistry tests (no medchain code: the
contract is tested against eth_account's own EIP-712 encoder)."""

from __future__ import annotations

from typing import Any

from brownie import chain, web3
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

# DESIGN §6.2 purposes
TREATMENT, CLAIM, RESEARCH, EMERGENCY, PUBLIC_HEALTH = 1, 2, 3, 4, 5
# DESIGN §6.2 data-class bits
SUMMARY, OUTPATIENT, INPATIENT, LAB, IMAGING, PRESCRIPTION, BILLING = (1 << i for i in range(7))
GENOMIC, MENTAL_HEALTH, REPRODUCTIVE, INFECTIOUS_DISEASE = (1 << i for i in range(7, 11))
ALL_CLASSES = (1 << 11) - 1

# IConsentRegistry.Review
PENDING, JUSTIFIED, UNJUSTIFIED = 0, 1, 2

ZERO = "0x" + "00" * 20
HOUR = 3600
DAY = 24 * HOUR
EMERGENCY_DURATION = DAY
REVIEW_PERIOD = 7 * DAY
JUSTIFICATION = keccak(text="justification document #1")

DOMAIN_NAME, DOMAIN_VERSION = "MedChain ConsentRegistry", "1"
EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
GRANT_TYPE = [
    {"name": "patient", "type": "address"},
    {"name": "grantee", "type": "address"},
    {"name": "purpose", "type": "uint8"},
    {"name": "dataClasses", "type": "uint64"},
    {"name": "validFrom", "type": "uint64"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
REVOKE_TYPE = [
    {"name": "patient", "type": "address"},
    {"name": "grantee", "type": "address"},
    {"name": "purpose", "type": "uint8"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def bytes_arg(value: bytes) -> str:
    """A bytes32 error argument as brownie prints it (a Python bytes repr), for reverts_with."""
    return repr(bytes(value))


HOSPITAL_ROLE = bytes_arg(keccak(text="HOSPITAL"))  # role ids as error arguments
AUDITOR_ROLE = bytes_arg(keccak(text="AUDITOR"))


# ---- clock: views run at the latest block's time; a transaction at the next block's ----


def now() -> int:
    """Time seen by a view call now (the latest block's timestamp)."""
    return int(chain[-1].timestamp)


def mine_at(timestamp: int) -> None:
    """Mine an empty block at `timestamp`, so views see exactly that time.

    (brownie 1.22.2's `chain.mine(timestamp=...)` sends malformed params to Anvil, hence the raw RPC.)
    """
    _rpc("evm_mine", [timestamp])


def next_tx_at(timestamp: int) -> None:
    """The next transaction's block gets `timestamp` exactly."""
    _rpc("evm_setNextBlockTimestamp", [timestamp])


def _rpc(method: str, params: list) -> None:
    response = web3.provider.make_request(method, params)
    assert "error" not in response, response


# ---- EIP-712 ----


def domain(registry: Any, chain_id: int | None = None, verifying_contract: Any = None) -> dict:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain.id if chain_id is None else chain_id,
        "verifyingContract": str(verifying_contract or registry.address),
    }


def grant_message(
    registry: Any,
    patient: Any,
    grantee: Any,
    purpose: int,
    classes: int,
    valid_from: int = 0,
    valid_until: int = 0,
    deadline: int | None = None,
    nonce: int | None = None,
) -> dict:
    return {
        "patient": str(patient),
        "grantee": str(grantee),
        "purpose": purpose,
        "dataClasses": classes,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "nonce": registry.nonces(patient) if nonce is None else nonce,
        "deadline": now() + HOUR if deadline is None else deadline,
    }


def revoke_message(
    registry: Any,
    patient: Any,
    grantee: Any,
    purpose: int,
    deadline: int | None = None,
    nonce: int | None = None,
) -> dict:
    return {
        "patient": str(patient),
        "grantee": str(grantee),
        "purpose": purpose,
        "nonce": registry.nonces(patient) if nonce is None else nonce,
        "deadline": now() + HOUR if deadline is None else deadline,
    }


def typed(primary: str, message: dict, dom: dict) -> dict:
    types = {"EIP712Domain": EIP712_DOMAIN, primary: GRANT_TYPE if primary == "ConsentGrant" else REVOKE_TYPE}
    return {"types": types, "primaryType": primary, "domain": dom, "message": message}


def sign(key: Any, primary: str, message: dict, dom: dict) -> bytes:
    """65-byte r || s || v signature of the typed data by `key` (a brownie LocalAccount or hex key)."""
    private_key = getattr(key, "private_key", key)
    signed = Account.sign_message(encode_typed_data(full_message=typed(primary, message, dom)), private_key)
    return bytes(signed.signature)


def digest(primary: str, message: dict, dom: dict) -> bytes:
    """The EIP-712 digest the contract verifies."""
    signable = encode_typed_data(full_message=typed(primary, message, dom))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def recover(primary: str, message: dict, dom: dict, signature: bytes) -> str:
    """Who the contract will see as the ECDSA signer of `signature` over `message` in `dom`."""
    return Account.recover_message(
        encode_typed_data(full_message=typed(primary, message, dom)), signature=signature
    )


def high_s(signature: bytes) -> bytes:
    """The malleable twin of a low-s signature: (r, n - s, v ^ 1); recovers the same key."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28


# ---- calls ----


def grant_by_sig(
    registry: Any,
    signer: Any,
    relayer: Any,
    patient: Any,
    grantee: Any,
    purpose: int,
    classes: int,
    valid_from: int = 0,
    valid_until: int = 0,
    deadline: int | None = None,
    nonce: int | None = None,
    dom: dict | None = None,
) -> Any:
    """Sign a ConsentGrant with `signer` and relay it from `relayer`; returns the transaction."""
    msg = grant_message(
        registry, patient, grantee, purpose, classes, valid_from, valid_until, deadline, nonce
    )
    sig = sign(signer, "ConsentGrant", msg, dom or domain(registry))
    return registry.grantBySig(
        patient, grantee, purpose, classes, valid_from, valid_until, msg["deadline"], sig, {"from": relayer}
    )


def revoke_by_sig(
    registry: Any,
    signer: Any,
    relayer: Any,
    patient: Any,
    grantee: Any,
    purpose: int,
    deadline: int | None = None,
    nonce: int | None = None,
    dom: dict | None = None,
) -> Any:
    msg = revoke_message(registry, patient, grantee, purpose, deadline, nonce)
    sig = sign(signer, "ConsentRevoke", msg, dom or domain(registry))
    return registry.revokeBySig(patient, grantee, purpose, msg["deadline"], sig, {"from": relayer})


def consent(registry: Any, patient: Any, grantee: Any, purpose: int) -> dict:
    """The stored consent as a dict."""
    classes, granted_at, revoked_at, valid_from, valid_until = registry.getConsent(patient, grantee, purpose)
    return {
        "dataClasses": classes,
        "grantedAt": granted_at,
        "revokedAt": revoked_at,
        "validFrom": valid_from,
        "validUntil": valid_until,
    }
