"""Interop: signatures made by eth_account straight from the DESIGN §6.4 JSON (built inline here, no project
code and no shared test helper) are accepted — what MetaMask's eth_signTypedData_v4 or foundry's
`cast wallet sign --data` produce for the same JSON."""

from __future__ import annotations

import json

from brownie import chain
from eth_account import Account
from eth_account.messages import encode_typed_data

PATIENT_KEY = "0x" + "11" * 32  # the `patient` fixture's key


def _design_json(primary, domain, message):
    """The typed data exactly as an external wallet receives it (a JSON document)."""
    types = {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "ConsentGrant": [
            {"name": "patient", "type": "address"},
            {"name": "grantee", "type": "address"},
            {"name": "purpose", "type": "uint8"},
            {"name": "dataClasses", "type": "uint64"},
            {"name": "validFrom", "type": "uint64"},
            {"name": "validUntil", "type": "uint64"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "ConsentRevoke": [
            {"name": "patient", "type": "address"},
            {"name": "grantee", "type": "address"},
            {"name": "purpose", "type": "uint8"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
    }
    # eth_account derives the primary type from `types`, so the document carries only the one it signs
    types = {"EIP712Domain": types["EIP712Domain"], primary: types[primary]}
    return json.dumps({"types": types, "primaryType": primary, "domain": domain, "message": message})


def _domain(registry):
    return {
        "name": "MedChain ConsentRegistry",
        "version": "1",
        "chainId": chain.id,
        "verifyingContract": registry.address,
    }


def test_sign_typed_data_grant_is_accepted(registry, patient, insurer, hospital):
    deadline = chain[-1].timestamp + 3600
    message = {
        "patient": patient.address,
        "grantee": insurer.address,
        "purpose": 2,
        "dataClasses": (1 << 3) | (1 << 4),
        "validFrom": 0,
        "validUntil": 0,
        "nonce": registry.nonces(patient),
        "deadline": deadline,
    }
    doc = json.loads(_design_json("ConsentGrant", _domain(registry), message))
    signed = Account.sign_typed_data(
        PATIENT_KEY, doc["domain"], {"ConsentGrant": doc["types"]["ConsentGrant"]}, doc["message"]
    )
    registry.grantBySig(
        patient, insurer, 2, (1 << 3) | (1 << 4), 0, 0, deadline, signed.signature, {"from": hospital}
    )
    assert registry.isPermitted(patient, insurer, 2, 1 << 3)


def test_full_message_grant_is_accepted(registry, patient, insurer, hospital):
    deadline = chain[-1].timestamp + 3600
    until = deadline + 86400
    message = {
        "patient": patient.address,
        "grantee": insurer.address,
        "purpose": 1,
        "dataClasses": 0x7FF,
        "validFrom": 1,
        "validUntil": until,
        "nonce": registry.nonces(patient),
        "deadline": deadline,
    }
    full = json.loads(_design_json("ConsentGrant", _domain(registry), message))
    signed = Account.sign_message(encode_typed_data(full_message=full), PATIENT_KEY)
    registry.grantBySig(patient, insurer, 1, 0x7FF, 1, until, deadline, signed.signature, {"from": hospital})
    assert registry.isPermitted(patient, insurer, 1, 0x7FF)


def test_full_message_revoke_is_accepted(registry, patient, insurer, hospital):
    registry.grant(insurer, 2, 1 << 3, 0, 0, {"from": patient})
    deadline = chain[-1].timestamp + 3600
    message = {
        "patient": patient.address,
        "grantee": insurer.address,
        "purpose": 2,
        "nonce": registry.nonces(patient),
        "deadline": deadline,
    }
    full = json.loads(_design_json("ConsentRevoke", _domain(registry), message))
    signed = Account.sign_message(encode_typed_data(full_message=full), PATIENT_KEY)
    registry.revokeBySig(patient, insurer, 2, deadline, signed.signature, {"from": hospital})
    assert not registry.isPermitted(patient, insurer, 2, 1 << 3)


def test_hex_string_values_are_accepted(registry, patient, insurer, hospital):
    """Wallet JSON often carries numbers as strings; the signed bytes are the same."""
    deadline = chain[-1].timestamp + 3600
    message = {
        "patient": patient.address.lower(),
        "grantee": insurer.address.lower(),
        "purpose": "2",
        "dataClasses": "8",
        "validFrom": "0",
        "validUntil": "0",
        "nonce": str(registry.nonces(patient)),
        "deadline": str(deadline),
    }
    full = json.loads(_design_json("ConsentGrant", _domain(registry), message))
    signed = Account.sign_message(encode_typed_data(full_message=full), PATIENT_KEY)
    registry.grantBySig(patient, insurer, 2, 8, 0, 0, deadline, signed.signature, {"from": hospital})
    assert registry.isPermitted(patient, insurer, 2, 8)
