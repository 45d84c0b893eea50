"""`medchain node`: a local chain (Anvil by default, or Ganache / Hardhat) whose state survives restarts."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from medchain.cli.options import console
from medchain.errors import ChainError
from medchain.node import CLIENTS, node_class
from medchain.store import state_dir

app = typer.Typer(help="Run a local chain that keeps its state between runs.")

#: signals that stop the node (and save its state): Ctrl-C, `kill <pid>`, a closed terminal
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

STATE_NAMES = {"anvil": "anvil-state.json", "ganache": "ganache-db", "hardhat": "hardhat-state"}


@app.command("start")
def start(
    client: Annotated[str, typer.Option(help=f"local client: {', '.join(CLIENTS)}")] = "anvil",
    port: Annotated[int, typer.Option(help="port to listen on (0 = a free one)")] = 8545,
    chain_id: Annotated[int, typer.Option(help="chain id")] = 1337,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="state file (anvil, default .medchain/anvil-state.json) or database folder "
            "(ganache, default .medchain/ganache-db); hardhat keeps no state",
        ),
    ] = None,
    gas_price: Annotated[
        int | None,
        typer.Option(
            help="fixed gas price in wei (anvil default 0: a free-gas chain with base fee 0, like the "
            "consortium's Besu network; ganache's base fee cannot be 0)"
        ),
    ] = None,
) -> None:
    """Start a local chain in the foreground with its state loaded from and saved to disk; Ctrl-C or
    `kill <pid>` (SIGINT, SIGTERM, SIGHUP) stops it and saves the state."""
    cls = node_class(client)
    if gas_price is None and client == "anvil":
        gas_price = 0  # free gas: base fee 0 and gas price 0, so a patient with no ETH can send transactions
    node = cls(port=port, chain_id=chain_id, state_file=state_file or state_dir() / STATE_NAMES[client],
               gas_price=gas_price)  # fmt: skip
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}  # before the child exists
    try:
        node.start()
        saved = f"state in {node.state_file}" if cls.persists else "hardhat keeps no state between runs"
        console().print(f"[green]{client}[/] chain {chain_id} on {node.url}, {saved}", highlight=False)
        console().print(f"use it with: export MEDCHAIN_RPC_URL={node.url}", highlight=False)
        while not stop.wait(0.5):
            if node.process is not None and node.process.poll() is not None:
                code = node.process.returncode
                raise ChainError(f"{client} exited unexpectedly (code {code}): start it again")
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console().print("stopped; state saved" if cls.persists else "stopped (hardhat keeps no state)")
