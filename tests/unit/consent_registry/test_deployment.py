"""Constructor, EIP-712 domain (DESIGN §6.4, kept exactly) and constants."""

from __future__ import annotations

from brownie import ZERO_ADDRESS, chain
from consent_helpers import DOMAIN_NAME, DOMAIN_VERSION, domain, grant_message, typed
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from helpers import reverts_with

GRANT_TYPE_STRING = (
    "ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,"
    "uint64 validUntil,uint256 nonce,uint256 deadline)"
)
REVOKE_TYPE_STRING = (
    "ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)"
)


def test_constructor_with_zero_consortium_reverts(ConsentRegistry, council):
    with reverts_with("ConsentZeroAddress"):
        ConsentRegistry.deploy(ZERO_ADDRESS, {"from": council})


def test_consortium_is_the_constructor_argument(registry, consortium):
    assert registry.consortium() == consortium.address


def test_eip712_domain_is_design_6_4(registry):
    fields, name, version, chain_id, verifying, salt, extensions = registry.eip712Domain()
    assert fields == "0x0f"  # name, version, chainId, verifyingContract
    assert (name, version, chain_id, verifying) == (DOMAIN_NAME, DOMAIN_VERSION, chain.id, registry.address)
    assert salt == "0x" + "00" * 32 and list(extensions) == []


def test_domain_separator_matches_eth_account(registry, patient, hospital):
    msg = grant_message(registry, patient, hospital, 1, 1)
    header = encode_typed_data(full_message=typed("ConsentGrant", msg, domain(registry))).header
    assert registry.DOMAIN_SEPARATOR() == "0x" + header.hex()


def test_typehashes_are_design_6_4(registry):
    assert registry.CONSENT_GRANT_TYPEHASH() == "0x" + keccak(text=GRANT_TYPE_STRING).hex()
    assert registry.CONSENT_REVOKE_TYPEHASH() == "0x" + keccak(text=REVOKE_TYPE_STRING).hex()


def test_time_constants(registry):
    assert registry.EMERGENCY_DURATION() == 24 * 3600
    assert registry.REVIEW_PERIOD() == 7 * 24 * 3600


def test_initial_state(registry, patient, hospital):
    assert registry.nonces(patient) == 0
    assert registry.openingCount() == 0
    assert registry.pendingReviewCount() == 0
    assert registry.unjustifiedCount(hospital) == 0
    guardian, until = registry.guardianOf(patient)
    assert guardian == ZERO_ADDRESS and until == 0
