"""brownie's own transaction path on any network: `brownie run scripts/smoke.py --network X`.

Deploys the test settlement token and moves ETH with brownie's gas settings (not medchain's), so a network
whose gas price brownie gets wrong (Ganache with brownie's development default of 0) shows up here.
"""

from brownie import SettlementToken, accounts, network


def main() -> None:
    sender, receiver = accounts[0], accounts[1]
    token = SettlementToken.deploy({"from": sender})
    transfer = sender.transfer(receiver, "1 gwei")
    print(f"smoke ok on {network.show_active()}: token {token.address}, transfer gas {transfer.gas_used}")
