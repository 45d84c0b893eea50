"""`medchain demo`: the whole platform end to end on a local chain it starts itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medchain.errors import MedchainError

app = typer.Typer(help="Run the end-to-end demo on a fresh local chain.")


@app.callback(invoke_without_command=True)
def demo(
    chain: Annotated[
        str,
        typer.Option(
            help="anvil (default), ganache or hardhat (a fresh node started here on a free port), "
            "or pyevm (in process)"
        ),
    ] = "anvil",
    records: Annotated[int, typer.Option(help="records in the Merkle batch")] = 10_000,
    out: Annotated[Path | None, typer.Option(help="report folder (default reports/demo)")] = None,
) -> None:
    """Deploy, admit, consent, anchor, claim, trace drugs, break-glass, reports and a privacy scan."""
    import warnings

    from medchain.demo import run
    from medchain.store.secrets import use_throwaway_passphrase

    use_throwaway_passphrase("medchain-demo")  # throwaway salt keys, sealed all the same

    warnings.filterwarnings("ignore", message=".*httpx.*")  # starlette TestClient notice
    warnings.filterwarnings("ignore", message=".*MismatchedABI.*")

    if records < 1:
        raise MedchainError(f"--records must be at least 1, got {records}")
    ctx = run(chain=chain, out_dir=out, records=records)
    findings = ctx.facts.get("privacy_findings")
    if findings:
        raise MedchainError(f"privacy scan found {len(findings)} planted values on chain: see {ctx.out}")
