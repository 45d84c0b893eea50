"""Fixtures of the fuzz suite. Most fuzz tests need no chain; the CLI tests whose valid inputs reach the chain
(claims submit, addresses, amounts) share one private Anvil with the suite deployed, per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzzkit import Deployed
from web3 import Web3

from medchain.deploy import deploy_all, write_manifest
from medchain.node import Anvil


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        council = w3.eth.accounts[0]
        manifest = deploy_all(w3, council, [council], ["Council"], 1, write=False)
        path = tmp_path_factory.mktemp("fuzz-chain") / "manifest.json"
        write_manifest(manifest, path)
        yield Deployed(node.url, path, w3)
