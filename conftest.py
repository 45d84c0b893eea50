"""Project-root pytest hook: run brownie's development chain on a free port.

Port 8545 may belong to another process on a shared machine; brownie would then connect to that
node instead of starting its own. Loaded before brownie's plugin connects (root conftest files are
imported at start-up), so the Anvil that brownie launches listens on a port nobody else uses.
"""

from __future__ import annotations

import socket

from brownie._config import CONFIG


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _use_free_port() -> None:
    for network in CONFIG.networks.values():
        settings = network.get("cmd_settings")
        if network.get("cmd") and settings is not None and "fork" not in settings:
            settings["port"] = _free_port()
            settings["accounts"] = max(int(settings.get("accounts", 10)), 20)
            settings["gas_limit"] = max(int(settings.get("gas_limit", 0)), 30_000_000)


_use_free_port()


def _await_receipt_before_drop_check() -> None:
    """brownie decides a transaction was dropped when the sender's nonce has moved past it but its receipt is
    not there yet. Under load Anvil can answer with the new nonce an instant before the receipt is queryable,
    so a mined transaction was reported as "Tx dropped without known replacement" (seen once in CI). Wait
    for the receipt first (at most 10 s; on an automining dev chain it is there at once), then let brownie's
    own confirmation logic run unchanged."""
    import time

    from brownie.network.transaction import TransactionReceipt
    from brownie.network.web3 import web3
    from web3.exceptions import TransactionNotFound

    original = TransactionReceipt._await_confirmation

    def await_confirmation(self: TransactionReceipt, *args: object, **kwargs: object) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if web3.eth.get_transaction_receipt(self.txid) is not None:
                    break
            except TransactionNotFound:
                pass
            except Exception:  # not connected (yet): brownie's own logic reports it
                break
            time.sleep(0.02)
        original(self, *args, **kwargs)

    TransactionReceipt._await_confirmation = await_confirmation  # type: ignore[method-assign]


_await_receipt_before_drop_check()


def _retry_node_launch() -> None:
    """brownie launches its development Anvil once and gives up if the process exits at start; on a loaded
    machine another process can take the chosen port between `_free_port` and the launch (seen in CI-style
    runs beside other test sessions). Retry twice, each time on a new free port with web3 pointed at it."""
    from brownie.exceptions import RPCProcessError
    from brownie.network.rpc import Rpc
    from brownie.network.web3 import web3

    original = Rpc.launch

    def launch(self: Rpc, cmd: str, **kwargs: object) -> None:
        for attempt in range(3):
            try:
                return original(self, cmd, **kwargs)
            except RPCProcessError:
                if attempt == 2 or "port" not in kwargs:
                    raise
                kwargs["port"] = _free_port()
                web3.connect(f"http://127.0.0.1:{kwargs['port']}")

    Rpc.launch = launch  # type: ignore[method-assign]


_retry_node_launch()
