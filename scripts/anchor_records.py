"""Anchor a directory or manifest CSV of records as one Merkle batch (resumable, exactly once):
`brownie run scripts/anchor_records.py main --network X -- DIR --patient 0x.. --class LAB`.

The hospital key is MEDCHAIN_PRIVATE_KEY / MEDCHAIN_KEYSTORE from the environment, else brownie's account 3
on development networks (the demo hospital). Journal and salt key (one salt per record is derived from it):
medchain's per-chain store.
"""

import json

from brownie import accounts, web3

from medchain.chain import load_signer
from medchain.deploy import load_suite
from medchain.errors import ConfigError
from medchain.records import RecordService, anchor_batch, collect_batch_inputs
from medchain.store import default_store_path, open_store


def main(source: str, *options: str) -> None:
    opts = dict(zip(options[::2], options[1::2], strict=False))
    try:
        signer = load_signer(None)
    except ConfigError:
        signer = accounts[3].address
    suite = load_suite(web3)
    store = open_store(opts.get("--store") or default_store_path(web3.eth.chain_id))
    svc = RecordService.open(web3, suite.require("records"), suite.consortium, store, signer)
    items = collect_batch_inputs(
        svc.journal, svc.hospital, source, patient=opts.get("--patient"), data_class=opts.get("--class")
    )
    report = anchor_batch(svc, items, uri=opts.get("--uri", ""), source=source)
    print(json.dumps(report.as_dict(), indent=2))
