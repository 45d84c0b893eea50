"""Fixtures of the fault-injection suite: one private Anvil with the seeded suite per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultkit import Chain, deploy

from medchain import tx
from medchain.node import Anvil


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """A fresh Anvil (not brownie's) with the suite deployed and seeded, for one test module."""
    with Anvil() as node:
        yield deploy(node, tmp_path_factory.mktemp("fault-chain"))


@pytest.fixture(autouse=True)
def _healthy_node_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that failed half-way must not leave the module's node stalled, nor stale nonces behind."""
    yield
    tx.forget_nonces()
    if "chain" in request.fixturenames:
        chain: Chain = request.getfixturevalue("chain")
        if chain.node.process is not None and chain.node.process.poll() is None:
            chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
