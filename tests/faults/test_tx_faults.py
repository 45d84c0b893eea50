"""Node faults under `medchain.tx` itself, as a long-running process (a service, the web app, an in-process
re-run) meets them: the local nonce cache after a dropped or reorged-out transaction, and losing the node
while waiting for a receipt."""

from __future__ import annotations

import pytest
from eth_account import Account
from faultkit import Chain, drop, reorg_out
from web3 import Web3

from medchain import tx
from medchain.errors import ChainError
from medchain.node import Anvil

KEYS = {"dropped": Account.from_key("0x" + "5a" * 32), "reorged-out": Account.from_key("0x" + "5b" * 32)}


@pytest.mark.parametrize("fault", ["dropped", "reorged-out"])
def test_next_send_after_a_lost_transaction_is_mined(chain: Chain, fault: str) -> None:
    key, token = KEYS[fault], chain.suite.require("token")  # one key per case: a stuck nonce stays behind
    chain.w3.eth.send_transaction({"from": chain.council, "to": key.address, "value": 10**18})
    tx.forget_nonces()
    if fault == "dropped":
        chain.rpc("evm_setAutomine", False)
        lost = tx.submit(chain.w3, token.functions.mint(key.address, 1), key)
        drop(chain, lost)
        chain.rpc("evm_setAutomine", True)
    else:
        lost = tx.send(chain.w3, token.functions.mint(key.address, 1), key)["transactionHash"]
        reorg_out(chain, bytes(lost))
    receipt = tx.send(chain.w3, token.functions.mint(key.address, 2), key, timeout=1.5)
    assert receipt["status"] == 1


def test_losing_the_node_while_waiting_is_a_chain_error() -> None:
    node = Anvil().start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 5}))
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        sender = w3.eth.accounts[1]
        tx_hash = w3.eth.send_transaction({"from": sender, "to": w3.eth.accounts[2], "value": 1})
    finally:
        node.kill()
    with pytest.raises(ChainError):
        tx.wait(w3, bytes(tx_hash), timeout=2)
