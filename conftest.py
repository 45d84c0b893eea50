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
