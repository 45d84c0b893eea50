"""Local chains: every client starts and stops without leaving a process behind; bad input (an unknown client,
a port in use, a missing binary, a client that dies at start) is one line naming the cause and the fix; and
`medchain node start` run in the background stops its chain and saves the state on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from medchain import node as node_mod
from medchain.cli import app
from medchain.errors import ChainError, ConfigError, InputError
from medchain.node import Anvil, Ganache, Hardhat, LocalNode, node_class


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stat(pid: int) -> list[str] | None:
    """State, parent pid, ... of a process from /proc (None if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("cls", [Anvil, Ganache, Hardhat])
def test_each_client_starts_on_chain_1337_and_stops_without_a_trace(cls: type[LocalNode]) -> None:
    node = cls(chain_id=1337).start()
    assert node.process is not None
    pgid = node.process.pid
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        assert w3.eth.chain_id == 1337
        assert w3.eth.get_block("latest")["gasLimit"] == 30_000_000
        assert w3.eth.accounts[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # the shared dev mnemonic
    finally:
        node.stop()
    assert not _group_alive(pgid)
    assert not node_mod.port_in_use(node.port)


def test_unknown_client_is_one_line_naming_the_choices() -> None:
    with pytest.raises(InputError, match=r"^unknown client 'geth': use one of anvil, ganache, hardhat$"):
        node_class("geth")
    result = CliRunner().invoke(app, ["node", "start", "--client", "geth"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: unknown client 'geth': use one of anvil, ganache, hardhat"
    ]


def test_unknown_demo_chain_is_one_line() -> None:
    result = CliRunner().invoke(app, ["demo", "--chain", "geth", "--records", "4"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "use one of anvil, ganache, hardhat, pyevm" in lines[0]


@pytest.mark.parametrize("cls", [Anvil, Ganache, Hardhat])
def test_port_in_use_is_refused_before_starting(cls: type[LocalNode], busy_port: int) -> None:
    before = set(_children(os.getpid()))
    expected = (
        rf"^port {busy_port} is already in use \(another node\?\): stop that process or pick another --port$"
    )
    with pytest.raises(ChainError, match=expected):
        cls(port=busy_port, chain_id=1337).start()
    assert set(_children(os.getpid())) == before  # nothing was started


def test_cli_port_in_use_is_one_line(busy_port: int) -> None:
    result = CliRunner().invoke(app, ["node", "start", "--client", "ganache", "--port", str(busy_port)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0]


def test_missing_binaries_name_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(node_mod, "project_root", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    for cls, name in ((Anvil, "anvil"), (Ganache, "ganache")):
        with pytest.raises(ConfigError, match=rf"^{name} not found: run `make bootstrap`"):
            cls().start()
    with pytest.raises(ConfigError, match=r"^hardhat or its Node 22 is not installed: run `make bootstrap`$"):
        Hardhat().start()


@pytest.mark.parametrize("cls", [Anvil, Ganache])
def test_a_client_that_dies_at_start_leaves_nothing(cls: type[LocalNode]) -> None:
    node = cls(chain_id=1337, extra_args=["--no-such-option-here"])
    with pytest.raises(ChainError, match=rf"^{cls.client} exited at start: "):
        node.start()
    assert node.process is not None and not _group_alive(node.process.pid)


# ---- `medchain node start ... &` then kill <pid> (issue 12 item 13) ----


def _start_cli_node(tmp_path: Path, client: str, state: Path) -> tuple[subprocess.Popen[str], str]:
    port = node_mod.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "medchain.cli", "node", "start", "--client", client, "--port", str(port),
         "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        start_new_session=True,  # like a background job of a shell: not in the test's process group
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "MEDCHAIN_RPC_URL" in line:
            return proc, line.split("=", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"medchain node start did not come up: {proc.stdout.read()}")


@pytest.mark.parametrize(("client", "sig"), [("anvil", signal.SIGTERM), ("anvil", signal.SIGINT),
                                             ("ganache", signal.SIGTERM)])  # fmt: skip
def test_kill_stops_the_chain_and_saves_the_state(tmp_path: Path, client: str, sig: signal.Signals) -> None:
    """SECURITY.md (issue 12 item 13): `kill <pid>` used to end the CLI only; the chain kept the port."""
    state = tmp_path / ("state.json" if client == "anvil" else "ganache-db")
    proc, url = _start_cli_node(tmp_path, client, state)
    children = _children(proc.pid)
    assert children, "the chain runs as a child of the CLI"
    w3 = Web3(Web3.HTTPProvider(url))
    if client == "anvil":  # `medchain node start` is a free-gas chain (issue 17): a patient needs no ETH
        assert w3.eth.get_block("latest")["baseFeePerGas"] == 0
    accounts = w3.eth.accounts
    tx_hash = w3.eth.send_transaction({"from": accounts[0], "to": accounts[1], "value": 12345})
    w3.eth.wait_for_transaction_receipt(tx_hash)
    height = w3.eth.block_number
    assert height > 0

    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopped; state saved" in out
    time.sleep(0.2)
    assert not any(_alive(child) for child in children)  # the chain is gone ...
    assert not node_mod.port_in_use(int(url.rsplit(":", 1)[1]))  # ... and its port is free

    restarted = node_class(client)(port=0, chain_id=1337, state_file=state).start()
    try:
        again = Web3(Web3.HTTPProvider(restarted.url))
        assert again.eth.block_number >= height
        assert again.eth.get_transaction(tx_hash)["value"] == 12345
    finally:
        restarted.stop()


def test_hardhat_says_its_state_is_not_kept(tmp_path: Path) -> None:
    proc, url = _start_cli_node(tmp_path, "hardhat", tmp_path / "unused.json")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopped (hardhat keeps no state)" in out
    assert not (tmp_path / "unused.json").exists()
    assert not node_mod.port_in_use(int(url.rsplit(":", 1)[1]))
