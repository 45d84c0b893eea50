"""Deploy the MedChain suite: `brownie run scripts/deploy.py --network X` (same plan as `medchain deploy`).

The deployer is MEDCHAIN_PRIVATE_KEY / MEDCHAIN_KEYSTORE from the environment, else brownie's first
unlocked account (development networks). Council: $MEDCHAIN_COUNCIL (comma list), else the deployer.
"""

import os

from brownie import accounts, web3

from medchain.chain import load_signer, signer_address
from medchain.deploy import deploy_all, manifest_path
from medchain.errors import ConfigError


def main() -> None:
    try:
        deployer = load_signer(None)
    except ConfigError:
        deployer = accounts[0].address
    council = [a for a in os.environ.get("MEDCHAIN_COUNCIL", "").split(",") if a]
    council = council or [signer_address(deployer)]
    threshold = int(os.environ.get("MEDCHAIN_THRESHOLD", "1"))
    force = bool(os.environ.get("MEDCHAIN_FORCE"))
    manifest = deploy_all(web3, deployer, council, threshold=threshold, force=force)
    for name, entry in manifest["contracts"].items():
        print(f"{name:<16} {entry['address']}")
    print(f"manifest: {manifest_path(manifest['chainId'])}")
