"""A local Anvil node started by the tooling: on a free port, optionally persisting its state to disk."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from web3 import HTTPProvider, Web3

from medchain.artifacts import project_root
from medchain.errors import ChainError, ConfigError

#: Anvil's default development mnemonic (its accounts are the well-known test keys; never for real funds)
DEV_MNEMONIC = "test test test test test test test test test test test junk"


def free_port() -> int:
    """A TCP port nobody listens on right now (never assume 8545 is ours)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def anvil_binary() -> str:
    """The npm-installed anvil of this checkout, else one on PATH."""
    local = project_root() / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise ConfigError("anvil not found: run `make bootstrap` (npm ci installs it)")
    return found


@dataclass
class Anvil:
    """A running Anvil child process; use as a context manager or call stop()."""

    port: int = 0
    chain_id: int = 31337
    state_file: Path | None = None
    gas_price: int | None = None
    accounts: int = 20
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        return cmd + self.extra_args

    def start(self, timeout: float = 20.0) -> Anvil:
        if not self.port:
            self.port = free_port()
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 2}))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() if self.process.stderr else b"").decode(errors="replace")
                last = err.strip().splitlines()[-1] if err.strip() else "?"
                raise ChainError(f"anvil exited at start: {last}")
            try:
                if w3.eth.chain_id == self.chain_id:
                    return self
            except Exception:  # not listening yet
                time.sleep(0.05)
        self.stop()
        raise ChainError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the node gracefully (Anvil dumps --state on SIGTERM/SIGINT)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Hard stop (crash simulation): no state dump beyond the last --state-interval write."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Anvil:
        return self.start() if self.process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
