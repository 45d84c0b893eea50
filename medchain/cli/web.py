"""`medchain web serve`: the consumer verification page (read-only; no keys are loaded)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from medchain.cli.options import state
from medchain.errors import ConfigError, InputError
from medchain.gs1 import DEFAULT_RESOLVER

if TYPE_CHECKING:
    from medchain.drugs import DrugStatus

app = typer.Typer(help="Consumer drug verification web page (GS1 Digital Link resolver, read-only).")


@app.callback()
def web() -> None:
    """Consumer drug verification web page (GS1 Digital Link resolver, read-only)."""


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    resolver: Annotated[
        str,
        typer.Option(
            envvar="MEDCHAIN_RESOLVER",
            help="resolver host printed in the QR codes (shown as the canonical link)",
        ),
    ] = DEFAULT_RESOLVER,
    utc_offset: Annotated[
        float, typer.Option(help="hours east of UTC for dates on the page, e.g. 8 for China")
    ] = 0.0,
) -> None:
    """Serve /01/{gtin}/10/{lot}/21/{serial} and a scan form at / until interrupted."""
    import uvicorn

    from medchain import drugs
    from medchain.web import create_app

    if not -14 <= utc_offset <= 14:
        raise InputError(f"--utc-offset must be between -14 and 14 hours, got {utc_offset}")
    st = state(ctx)
    w3 = st.w3()
    contract = st.suite().drugs
    if contract is None:
        raise ConfigError("DrugTrace is not deployed on this chain (no 'drugs' address in the manifest)")

    def lookup(gtin: str, lot: str, serial: str) -> DrugStatus | None:
        return drugs.lookup(w3, contract, gtin, lot, serial)

    tz = dt.timezone(dt.timedelta(hours=utc_offset))
    application = create_app(lookup, resolver, tz=tz)
    typer.echo(
        f"verification page on http://{host}:{port}/ (QR resolver {resolver}); Ctrl-C stops it", err=True
    )
    uvicorn.run(application, host=host, port=port, log_level="info", server_header=False)
