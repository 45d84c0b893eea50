"""`medchain node`: a persistent local chain (Anvil) whose state survives restarts."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from medchain.cli.options import console
from medchain.node import Anvil
from medchain.store import state_dir

app = typer.Typer(help="Run a local chain that keeps its state between runs.")


@app.command("start")
def start(
    port: Annotated[int, typer.Option(help="port to listen on (0 = a free one)")] = 8545,
    chain_id: Annotated[int, typer.Option(help="chain id")] = 1337,
    state_file: Annotated[
        Path | None, typer.Option("--state", help="state file (default .medchain/anvil-state.json)")
    ] = None,
    gas_price: Annotated[
        int | None, typer.Option(help="fixed gas price in wei (0 = a free-gas chain)")
    ] = None,
) -> None:
    """Start Anvil in the foreground with its state loaded from and saved to a file (Ctrl-C to stop)."""
    node = Anvil(port=port, chain_id=chain_id, state_file=state_file or state_dir() / "anvil-state.json",
                 gas_price=gas_price)  # fmt: skip
    node.start()
    console().print(f"[green]anvil[/] chain {chain_id} on {node.url}, state in {node.state_file}")
    console().print(f"use it with: export MEDCHAIN_RPC_URL={node.url}")
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        node.stop()
        console().print("stopped; state saved")
