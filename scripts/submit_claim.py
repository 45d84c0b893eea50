"""Submit claim files (JSON/CSV, or directories of them) once each, with pre-flight checks:
`brownie run scripts/submit_claim.py main --network X -- FILE [FILE|DIR ...] [--dry-run] [--store PATH]`.

The submitting key (a HOSPITAL key or the policy holder) is MEDCHAIN_PRIVATE_KEY / MEDCHAIN_KEYSTORE from the
environment, else brownie's account 3 on development networks (the demo hospital). The journal that makes
re-runs idempotent lives in medchain's per-chain store. Same code path as `medchain claims submit`.
"""

import json
from pathlib import Path

from brownie import accounts, web3

from medchain.chain import connect, load_signer
from medchain.claimfile import load_claims
from medchain.claims import ClaimJournal, submit_claims
from medchain.deploy import load_suite
from medchain.errors import ConfigError
from medchain.store import default_store_path, open_store


def main(*args: str) -> None:
    args = tuple(a for a in args if a != "--")
    store = args[args.index("--store") + 1] if "--store" in args else None
    paths = [Path(a) for a in args if not a.startswith("--") and a != store]
    try:
        signer = load_signer(None)
    except ConfigError:
        signer = accounts[3].address
    loaded = load_claims(paths)
    # a plain Web3 on brownie's node: brownie's gas-price middleware clashes with EIP-1559 fees
    w3 = connect(rpc_url=web3.provider.endpoint_uri)
    suite = load_suite(w3)
    conn = open_store(store or default_store_path(w3.eth.chain_id))
    journal = ClaimJournal(conn, suite.require("claims").address)
    results = submit_claims(suite, loaded.entries, signer, journal, dry_run="--dry-run" in args)
    report = [
        {"source": s, "outcome": "invalid", "problems": p} for s, p in loaded.problems_by_source().items()
    ]
    print(json.dumps(report + [r.as_dict() for r in results], indent=2))
