"""Relay a patient's signed consent file (grantBySig / revokeBySig), the relayer paying the gas:
`brownie run scripts/relay_consent.py main --network X -- consent.json`.

The relayer key is MEDCHAIN_PRIVATE_KEY / MEDCHAIN_KEYSTORE from the environment, else brownie's account 3 on
development networks (the demo hospital). The registry comes from the chain's deployment manifest.
"""

import json
from dataclasses import asdict
from pathlib import Path

from brownie import accounts, web3

from medchain.chain import load_signer
from medchain.consent import SignedConsent, consent_state, relay
from medchain.deploy import load_suite
from medchain.errors import ConfigError


def main(path: str) -> None:
    try:
        relayer = load_signer(None)
    except ConfigError:
        relayer = accounts[3].address
    registry = load_suite(web3).require("consent")
    signed = SignedConsent.load(Path(path))
    receipt = relay(registry, signed, relayer)
    m = signed.message
    state = consent_state(registry, m.patient, m.grantee, m.purpose)
    print(
        json.dumps(
            {"tx": web3.to_hex(receipt["transactionHash"]), "gasUsed": receipt["gasUsed"], **asdict(state)},
            indent=2,
        )
    )
