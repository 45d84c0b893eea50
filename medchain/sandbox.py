"""`medchain sandbox`: one command to a working local consortium.

A free-gas Anvil (base fee 0, gas price 0, chain 1337) that keeps running in the background with its state in
<home>/sandbox/anvil-state.json; the suite deployed with a 2-of-3 council; every role the README's walkthrough
uses admitted under its README name; insurer X's two claims officers as its operator keys; test settlement
tokens minted to both insurers; and <home>/sandbox.env, which exports the named development keys
(MEDCHAIN_PRIVATE_KEY_<NAME>), their addresses ($PATIENT, $HOSPITAL_A, …), the RPC URL and the contract
addresses, for the user to `source`.

Every step checks the chain first, so a re-run changes nothing and a run after a lost state file redeploys.
The keys come from the public development mnemonic (`test … junk`): never for real funds or real data.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from medchain import consortium, tx
from medchain.contracts import Suite
from medchain.deploy import deploy_all, is_live, manifest_path, read_manifest
from medchain.errors import ChainError, ConfigError
from medchain.node import DEV_MNEMONIC, Anvil, port_in_use
from medchain.store import state_dir

CHAIN_ID = 1337
#: the node's funded accounts: indexes at or above it hold no ETH (the patient's and the guardian's)
FUNDED = 20
#: test settlement tokens each insurer holds after the sandbox is made (in token units)
INSURER_FLOAT = 1_000_000


@dataclass(frozen=True)
class DevAccount:
    """A named development account: its mnemonic index, the role it is admitted with (None: not a member),
    its public name, and the member whose operator key it is."""

    name: str
    index: int
    role: str | None = None
    title: str = ""
    operator_of: str | None = None

    @property
    def variable(self) -> str:
        """The shell name of its address: `hospital-a` -> HOSPITAL_A."""
        return self.name.upper().replace("-", "_")


COUNCIL = ("council-a", "council-b", "council-c")
ACCOUNTS: tuple[DevAccount, ...] = (
    DevAccount("council-a", 0, title="Health Commission 卫健委"),
    DevAccount("council-b", 1, title="Medical Insurance Bureau 医保局"),
    DevAccount("council-c", 2, title="Drug Administration 药监局"),
    DevAccount("hospital-a", 3, "HOSPITAL", "Provincial People's Hospital 省人民医院"),
    DevAccount("hospital-b", 4, "HOSPITAL", "City Central Hospital 市中心医院"),
    DevAccount("insurer-x", 5, "INSURER", "Insurer X 平安健康"),
    DevAccount("insurer-y", 6, "INSURER", "Insurer Y 人保健康"),
    DevAccount("officer-1", 7, operator_of="insurer-x"),
    DevAccount("officer-2", 8, operator_of="insurer-x"),
    DevAccount("maker", 9, "MANUFACTURER", "Ganjiang Pharma 赣江制药"),
    DevAccount("distributor", 10, "DISTRIBUTOR", "Jiangxi Medicine Distribution 江西医药"),
    DevAccount("pharmacy", 11, "PHARMACY", "Laobaixing Pharmacy 老百姓大药房"),
    DevAccount("auditor", 12, "AUDITOR", "Provincial Audit Office 审计厅"),
    DevAccount("hospital-c", 13),  # not a member: the council's walkthrough admits it
    DevAccount("staff-key", 14),  # not an operator yet: hospital A's walkthrough offers it
    DevAccount("new-key", 15),  # the key a rotation swaps in
    DevAccount("patient", FUNDED),  # beyond the funded accounts: a patient holds no ETH
    DevAccount("guardian", FUNDED + 1),
)
BY_NAME = {a.name: a for a in ACCOUNTS}


def dev_keys() -> dict[str, LocalAccount]:
    """Every named account's key, derived from the development mnemonic (BIP-44 m/44'/60'/0'/0/i)."""
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    return {a.name: Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{a.index}")) for a in ACCOUNTS}


def sandbox_dir() -> Path:
    return state_dir() / "sandbox"


def env_path() -> Path:
    return state_dir() / "sandbox.env"


@dataclass
class SandboxReport:
    """What `make_sandbox` found and did."""

    rpc_url: str
    chain_id: int
    pid: int | None
    env_file: Path
    manifest: Path
    started: bool = False
    deployed: bool = False
    admitted: list[str] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)
    minted: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contracts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rpcUrl": self.rpc_url, "chainId": self.chain_id, "pid": self.pid, "envFile": str(self.env_file),
            "manifest": str(self.manifest), "started": self.started, "deployed": self.deployed,
            "admitted": self.admitted, "operators": self.operators, "minted": self.minted,
            "accounts": self.accounts, "contracts": self.contracts,
        }  # fmt: skip


# ---- the node ----


def _pid_file() -> Path:
    return sandbox_dir() / "anvil.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_node() -> dict[str, Any] | None:
    """The sandbox node this home started ({pid, port}), if its process is still alive."""
    try:
        info: dict[str, Any] = json.loads(_pid_file().read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info.get("pid"), int) and _alive(info["pid"]) else None


def _answers(url: str) -> int | None:
    try:
        return int(Web3(HTTPProvider(url, request_kwargs={"timeout": 3})).eth.chain_id)
    except Exception:  # nothing (or no EVM node) answers there
        return None


def ensure_node(port: int) -> tuple[str, int | None, bool]:
    """(url, pid, started): the running sandbox node of this home, or a new detached free-gas Anvil."""
    url = f"http://127.0.0.1:{port}"
    info = running_node()
    if info is not None:
        if info.get("port") != port:
            raise ChainError(
                f"this home's sandbox already runs on port {info.get('port')} (pid {info['pid']}): "
                "use that port or run `medchain sandbox stop` first"
            )
        if _answers(url) == CHAIN_ID:
            return url, int(info["pid"]), False
    if port_in_use(port):
        raise ChainError(
            f"port {port} is already in use by another process (not this home's sandbox): stop it or pass "
            "--port N (e.g. `medchain sandbox --port 8546`)"
        )
    folder = sandbox_dir()
    node = Anvil(port=port, chain_id=CHAIN_ID, state_file=folder / "anvil-state.json", gas_price=0,
                 accounts=FUNDED, log_file=folder / "anvil.log").start()  # fmt: skip
    assert node.process is not None
    folder.mkdir(parents=True, exist_ok=True)
    _pid_file().write_text(json.dumps({"pid": node.process.pid, "port": port, "url": url}) + "\n")
    return url, node.process.pid, True


def stop_node() -> int | None:
    """Stop this home's sandbox node (SIGTERM to its group: Anvil saves its state); its pid or None."""
    info = running_node()
    if info is None:
        _pid_file().unlink(missing_ok=True)
        return None
    pid = int(info["pid"])
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
        _reap(pid)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    _pid_file().unlink(missing_ok=True)
    return pid


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # when this process started it (tests): no zombie left behind
    except ChildProcessError:
        pass


# ---- the consortium ----


def _ensure_suite(w3: Web3, keys: dict[str, LocalAccount], report: SandboxReport) -> Suite:
    path = manifest_path(CHAIN_ID)
    if path.is_file():
        manifest = read_manifest(CHAIN_ID, path)
        if is_live(w3, manifest):
            return Suite.load(w3, manifest)
    council = [keys[n].address for n in COUNCIL]
    titles = [BY_NAME[n].title for n in COUNCIL]
    manifest = deploy_all(w3, keys["council-a"], council, titles, 2, force=True)
    report.deployed = True
    return Suite.load(w3, manifest)


def _ensure_members(suite: Suite, keys: dict[str, LocalAccount], report: SandboxReport) -> None:
    c = suite.consortium
    for account in ACCOUNTS:
        if account.role is None:
            continue
        address = keys[account.name].address
        if consortium.get_member(c, address).status != consortium.MemberStatus.NONE.name:
            continue
        uri = f"https://{account.name}.example"
        request = consortium.proposal_request("admit", target=address, roles=account.role, name=account.title,
                                              uri=uri)  # fmt: skip
        proposal = consortium.propose(c, keys["council-a"], request)
        consortium.approve(c, keys["council-b"], proposal)
        consortium.execute(c, keys["council-b"], proposal)
        report.admitted.append(account.name)
    for account in ACCOUNTS:
        if account.operator_of is None:
            continue
        key = keys[account.name]
        if consortium.member_of(c, key.address) is None:
            consortium.add_operator(c, keys[account.operator_of], key)
            report.operators.append(account.name)


def _ensure_tokens(suite: Suite, keys: dict[str, LocalAccount], report: SandboxReport) -> None:
    token = suite.require("token")  # the sandbox deploys the test token (anyone may mint)
    decimals = int(token.functions.decimals().call())
    target = INSURER_FLOAT * 10**decimals
    for name in ("insurer-x", "insurer-y"):
        address = keys[name].address
        short = target - int(token.functions.balanceOf(address).call())
        if short > 0:
            tx.send(suite.w3, token.functions.mint(address, short), keys["council-a"])
            report.minted[name] = short // 10**decimals


# ---- the env file ----


def store_passphrase() -> str:
    """The passphrase that encrypts the sandbox store's salt keys: made once, kept in the env file."""
    try:
        for line in env_path().read_text().splitlines():
            if line.startswith(f"export {PASSPHRASE_ENV}="):
                return line.split("=", 1)[1]
    except OSError:
        pass
    return secrets.token_hex(16)


PASSPHRASE_ENV = "MEDCHAIN_STORE_PASSPHRASE"


def env_text(url: str, keys: dict[str, LocalAccount], suite: Suite) -> str:
    """The shell file `source`d by the user: keys, addresses, the RPC URL, the home, the store passphrase,
    the contracts."""
    lines = [
        "# MedChain sandbox (made by `medchain sandbox`): development keys from the public test mnemonic,",
        "# never for real funds or data. Use it with: source .medchain/sandbox.env",
        f"export MEDCHAIN_RPC_URL={url}",
        f"export MEDCHAIN_HOME={state_dir()}",
        f"export {PASSPHRASE_ENV}={store_passphrase()}",
        f"export CHAIN_ID={CHAIN_ID}",
    ]
    for account in ACCOUNTS:
        key = keys[account.name]
        lines.append(f"export MEDCHAIN_PRIVATE_KEY_{account.variable}={key.key.hex()}")
        lines.append(f"export {account.variable}={key.address}")
    for name, address in suite.addresses().items():
        lines.append(f"export {_snake(name)}={address}")
    return "\n".join(lines) + "\n"


def _snake(name: str) -> str:
    """ConsentRegistry -> CONSENT_REGISTRY."""
    out = "".join(f"_{ch}" if ch.isupper() and i else ch for i, ch in enumerate(name))
    return out.upper()


def make_sandbox(port: int = 8545) -> SandboxReport:
    """Start (or find) the sandbox node and bring the consortium on it to the README's starting state."""
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is out of range: pass --port 1-65535")
    url, pid, started = ensure_node(port)
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 60}))
    report = SandboxReport(url, CHAIN_ID, pid, env_path(), manifest_path(CHAIN_ID), started=started)
    keys = dev_keys()
    suite = _ensure_suite(w3, keys, report)
    _ensure_members(suite, keys, report)
    _ensure_tokens(suite, keys, report)
    path = env_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(env_text(url, keys, suite))
    tmp.chmod(0o600)
    tmp.replace(path)
    for account in ACCOUNTS:
        report.accounts[account.name] = {
            "address": keys[account.name].address,
            "role": account.role or ("COUNCIL" if account.name in COUNCIL else None),
            "operatorOf": account.operator_of,
        }
    report.contracts = suite.addresses()
    return report
