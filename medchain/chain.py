"""Chain connection and signers: a Web3 by brownie network name or RPC URL; keys from env or keystore."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware

from medchain.errors import ChainError, ConfigError
from medchain.text import check_json_depth, is_digits

DEFAULT_RPC = "http://127.0.0.1:8545"

#: a signer is a local key (signs here) or the address of an account the node holds unlocked (dev chains)
Signer = LocalAccount | str


def brownie_network_url(name: str) -> str:
    """RPC URL of a brownie network id from brownie's network config (e.g. `development`, `besu-qbft`)."""
    try:
        from brownie._config import CONFIG
    except ImportError:  # pragma: no cover - brownie is a dependency of the project venv
        raise ConfigError("brownie is not installed: pass --rpc-url instead of --network") from None
    network = CONFIG.networks.get(name)
    if network is None:
        known = ", ".join(sorted(CONFIG.networks))
        raise ConfigError(f"unknown network {name!r} (brownie knows: {known})")
    host = str(network.get("host", ""))
    port = (network.get("cmd_settings") or {}).get("port")
    if "$" in host:
        host = os.path.expandvars(host)
        if "$" in host:
            raise ConfigError(f"network {name!r}: host {network['host']!r} needs an environment variable")
    return f"{host}:{port}" if port and host.count(":") < 2 else host


def connect(rpc_url: str | None = None, network: str | None = None, timeout: float = 30.0) -> Web3:
    """Connect to an EVM node and check it answers; POA extraData handled (Besu/QBFT, Clique)."""
    if rpc_url and network:
        raise ConfigError("give either --rpc-url or --network, not both")
    url = rpc_url or (brownie_network_url(network) if network else DEFAULT_RPC)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"RPC URL must start with http:// or https://, got {url!r}")
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        w3.eth.chain_id  # noqa: B018 - the probe
    except Exception as exc:  # requests/urllib3/OSError variants
        raise ChainError(f"cannot reach an EVM node at {url}: {type(exc).__name__}") from None
    return w3


def load_signer(name: str | None = None, w3: Web3 | None = None) -> Signer:
    """The acting key.

    - `name` an integer: that unlocked account of the node (development chains only).
    - otherwise from the environment (never from a command-line argument):
      MEDCHAIN_PRIVATE_KEY[_<NAME>] = hex key, or MEDCHAIN_KEYSTORE[_<NAME>] = V3 keystore path with
      MEDCHAIN_KEYSTORE_PASSWORD[_<NAME>] (or MEDCHAIN_KEYSTORE_PASSWORD_FILE[_<NAME>]).
    """
    if name is not None and is_digits(name.strip()):
        return _node_account(int(name.strip()), w3)
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ConfigError(f"account name {name!r} must be 1-64 letters, digits, '-' or '_' (or a node index)")
    suffix = f"_{name.upper().replace('-', '_')}" if name else ""
    key = os.environ.get(f"MEDCHAIN_PRIVATE_KEY{suffix}")
    if key:
        try:
            account: LocalAccount = Account.from_key(key.strip())
        except (ValueError, TypeError):
            raise ConfigError(f"MEDCHAIN_PRIVATE_KEY{suffix} is not a valid private key") from None
        return account
    keystore = os.environ.get(f"MEDCHAIN_KEYSTORE{suffix}")
    if keystore:
        return load_keystore(Path(keystore), _keystore_password(suffix))
    who = f" for account {name!r}" if name else ""
    raise ConfigError(
        f"no signing key{who}: set MEDCHAIN_PRIVATE_KEY{suffix}, or MEDCHAIN_KEYSTORE{suffix} "
        f"and MEDCHAIN_KEYSTORE_PASSWORD{suffix}"
    )


def _keystore_password(suffix: str) -> str:
    password = os.environ.get(f"MEDCHAIN_KEYSTORE_PASSWORD{suffix}")
    if password is not None:
        return password
    password_file = os.environ.get(f"MEDCHAIN_KEYSTORE_PASSWORD_FILE{suffix}")
    if password_file:
        try:
            return Path(password_file).read_text().rstrip("\n")
        except OSError as exc:
            raise ConfigError(f"cannot read keystore password file {password_file}: {exc.strerror}") from None
    raise ConfigError(f"keystore given but no MEDCHAIN_KEYSTORE_PASSWORD{suffix} in the environment")


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt a V3 keystore file (slow on purpose: scrypt; do it once per process)."""
    try:
        text = path.read_text()
        check_json_depth(text, f"keystore {path}")
        data: dict[str, Any] = json.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"keystore {path} is not JSON") from None
    try:
        key = Account.decrypt(data, password)
    except ValueError:
        raise ConfigError(f"wrong password for keystore {path}") from None
    except (KeyError, TypeError):
        raise ConfigError(f"keystore {path} is not a V3 keystore") from None
    account: LocalAccount = Account.from_key(key)
    return account


def _node_account(index: int, w3: Web3 | None) -> str:
    if w3 is None:
        raise ConfigError("a node account index needs a chain connection")
    accounts = w3.eth.accounts
    if index >= len(accounts):
        raise ConfigError(f"the node has {len(accounts)} unlocked accounts; there is no account {index}")
    return str(accounts[index])


def signer_address(signer: Signer) -> str:
    """The checksum address of a signer."""
    return Web3.to_checksum_address(signer if isinstance(signer, str) else signer.address)


def connect_pyevm() -> Web3:
    """An in-process py-evm chain (eth-tester, Prague rules): the second EVM implementation.

    Its ten accounts are unlocked and funded; use their addresses as signers.
    """
    try:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3.providers.eth_tester import EthereumTesterProvider
    except ImportError:
        raise ConfigError("py-evm is not installed: `make bootstrap` installs eth-tester[py-evm]") from None
    backend = PyEVMBackend(genesis_parameters=PyEVMBackend.generate_genesis_params({"gas_limit": 30_000_000}))
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def latest_time(w3: Web3) -> int:
    """The chain's clock: the latest block's timestamp (what the contracts compare validity windows with)."""
    return int(w3.eth.get_block("latest")["timestamp"])


def head(w3: Web3) -> dict[str, int]:
    """The latest block's number and base fee (0 on a chain without EIP-1559)."""
    latest = w3.eth.get_block("latest")
    return {"block": int(latest["number"]), "baseFeePerGas": int(latest.get("baseFeePerGas", 0) or 0)}


class BlockTimes:
    """Timestamps of blocks, each fetched once: event lists name the same block many times."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._seen: dict[int, int] = {}

    def __call__(self, number: int) -> int:
        number = int(number)
        if number not in self._seen:
            self._seen[number] = int(self.w3.eth.get_block(number)["timestamp"])
        return self._seen[number]


def transactions_to(w3: Web3, addresses: Any, from_block: int = 0) -> list[dict[str, Any]]:
    """Every transaction sent to one of ``addresses`` from ``from_block`` to the head, oldest first (block by
    block, for observers and scans of a local or audited chain)."""
    wanted = {str(a).lower() for a in addresses}
    out: list[dict[str, Any]] = []
    for number in range(from_block, int(w3.eth.block_number) + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            data = dict(tx)  # type: ignore[arg-type]
            if data.get("to") and str(data["to"]).lower() in wanted:
                data["blockNumber"] = number  # eth-tester leaves it out, and calls the input "data"
                data.setdefault("input", data.get("data", b""))
                out.append(data)
    return out
