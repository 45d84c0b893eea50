"""Transaction sending: decoded reverts, local nonces for back-to-back sends, zero-gas chains."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from medchain import tx
from medchain.deploy import deploy_all
from medchain.errors import ContractRevert
from medchain.node import Anvil

KEY = "0x" + "5e" * 32


@pytest.fixture(scope="module")
def w3(anvil: Anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture(scope="module")
def suite_manifest(w3: Web3) -> dict:
    return deploy_all(w3, w3.eth.accounts[0], [w3.eth.accounts[0]], write=False)


def consortium(w3: Web3, manifest: dict):
    from medchain.contracts import contract_at

    return contract_at(w3, "Consortium", manifest["contracts"]["Consortium"]["address"])


def test_revert_is_decoded_by_name_and_arguments(w3: Web3, suite_manifest: dict) -> None:
    c = consortium(w3, suite_manifest)
    stranger = w3.eth.accounts[5]
    with pytest.raises(ContractRevert) as info:
        tx.send(w3, c.functions.propose(1, w3.eth.accounts[6], 2, "X", ""), stranger)
    assert info.value.name == "ConsortiumUnauthorized"
    assert info.value.args_dict["account"] == stranger
    assert str(info.value).startswith(f"ConsortiumUnauthorized(account={stranger}, role=0x")


def test_view_revert_is_decoded(w3: Web3, suite_manifest: dict) -> None:
    c = consortium(w3, suite_manifest)
    with pytest.raises(ContractRevert, match=r"ConsortiumUnknownProposal\(proposalId=999\)"):
        tx.call(c.functions.execute(999), w3.eth.accounts[0])


def test_local_key_back_to_back_sends_get_distinct_nonces(w3: Web3, suite_manifest: dict) -> None:
    signer = Account.from_key(KEY)
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": signer.address, "value": 10**18})
    c = consortium(w3, suite_manifest)
    # the member address itself may offer operator keys; admit the local key first
    admin = w3.eth.accounts[0]
    receipt = tx.send(w3, c.functions.propose(1, signer.address, 2, "Local hospital", ""), admin)
    proposal = c.events.ProposalCreated().process_receipt(receipt)[0]["args"]["proposalId"]
    tx.send(w3, c.functions.execute(proposal), admin)
    keys = [Account.create().address for _ in range(3)]
    hashes = [tx.submit(w3, c.functions.offerOperator(k, "0x" + "00" * 20), signer) for k in keys]
    receipts = [tx.wait(w3, h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    nonces = [w3.eth.get_transaction(h)["nonce"] for h in hashes]
    assert nonces == sorted(set(nonces)) and len(nonces) == 3


def test_zero_gas_chain_with_custom_chain_id() -> None:
    with Anvil(chain_id=2024, gas_price=0) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        signer = Account.create()  # holds no ETH: on a free-gas chain that is enough
        manifest = deploy_all(w3, signer, [signer.address], write=False)
        assert manifest["chainId"] == 2024
        assert w3.eth.get_balance(signer.address) == 0
        tx_hash = manifest["contracts"]["DrugTrace"]["tx"]
        assert w3.eth.get_transaction(tx_hash)["from"] == signer.address
