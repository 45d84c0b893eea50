"""`medchain gateway serve`: a hospital's record gateway (the data plane; docs/RECORD-EXCHANGE.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medchain.cli.options import state
from medchain.errors import InputError
from medchain.timeparse import parse_duration

app = typer.Typer(help="The hospital's record gateway: serves its anchored records under consent, encrypted.")


@app.callback()
def gateway() -> None:
    """The hospital's record gateway: serves its anchored records under consent, encrypted."""


@app.command("serve")
def serve(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Option("--source", help="the hospital's export: record files, FHIR JSON, FHIR NDJSON")
    ],
    host: Annotated[str, typer.Option(help="address to listen on (TLS in front for others)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8090,
    confirmations: Annotated[
        int, typer.Option(help="blocks an access log needs (1 = mined; raise it on a chain that reorgs)")
    ] = 1,
    max_lifetime: Annotated[
        str,
        typer.Option(metavar="DURATION", help="how far ahead a request may expire: seconds or 15m, 1h, …"),
    ] = "15m",
    store: Annotated[
        Path | None, typer.Option("--store", help="the hospital's journal store (default: per chain)")
    ] = None,
) -> None:
    """Serve POST /Record/{leaf}/$fetch and /Patient/{address}/$records until interrupted. The acting key
    (--account) names the hospital; the base URL is what the member publishes as its endpoint URI."""
    import uvicorn

    from medchain.chain import signer_address
    from medchain.consortium import authorized_member
    from medchain.gateway.catalogue import Catalogue
    from medchain.gateway.server import create_app
    from medchain.gateway.service import RecordGateway
    from medchain.journal import Journal
    from medchain.store import default_store_path, open_store

    if not 0 < port < 65536:
        raise InputError(f"--port must be 1..65535, got {port}")
    lifetime = parse_duration(max_lifetime, "--max-lifetime")
    if lifetime < 10:
        raise InputError(f"--max-lifetime must be at least 10 seconds, got {max_lifetime}")
    catalogue = Catalogue(source)
    st = state(ctx)
    w3 = st.w3()
    suite = st.suite()
    key = signer_address(st.signer())
    member = authorized_member(suite.consortium, key, "HOSPITAL")
    if member is None:
        raise InputError(f"account {key} does not act for an active HOSPITAL member")
    path = store or default_store_path(w3.eth.chain_id)
    if not path.exists():
        raise InputError(f"{path}: no journal store there (the one the hospital anchors with: --store PATH)")
    journal = Journal(open_store(path), w3.eth.chain_id, suite.require("records").address)
    service = RecordGateway(
        w3,
        suite.require("records"),
        suite.consortium,
        suite.require("consent"),
        journal,
        member,
        catalogue,
        confirmations=confirmations,
        max_lifetime=lifetime,
    )
    served = service.refresh()
    skipped = f"; {len(catalogue.skipped)} unreadable file(s) or line(s) skipped" if catalogue.skipped else ""
    typer.echo(
        f"record gateway of {member}: {served} record(s) from {source}{skipped}; "
        f"http://{host}:{port}/ (chain {w3.eth.chain_id}, {confirmations} confirmation(s)); Ctrl-C stops it",
        err=True,
    )
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning", server_header=False)
