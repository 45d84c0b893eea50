"""`medchain web serve`: the consumer verification page, the patient portal and the record check page.

No key is loaded unless `--relay` is given: then the acting account (`medchain --account NAME`) relays
patients' signed consents and pays their gas. The portal's record download reaches each hospital's gateway
at the endpoint URI the member publishes in Consortium; `--gateway MEMBER=URL` overrides it for this server
(a hospital's own gateway on its internal network, say)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import state
from medchain.errors import ConfigError, InputError
from medchain.gs1 import DEFAULT_RESOLVER

if TYPE_CHECKING:
    from medchain.drugs import DrugStatus

app = typer.Typer(help="Web pages: consumer drug verification, patient portal, record check.")


@app.callback()
def web() -> None:
    """Web pages: consumer drug verification (/), patient portal (/portal), record check (/check)."""


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
    relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay",
            help="relay patients' signed consents from the acting account (--account), which pays the gas",
        ),
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="local store: the portal's event index, serial trees served at /trees/ and cached "
            "(default: the chain's store)",
        ),
    ] = None,
    gateway: Annotated[
        list[str] | None,
        typer.Option(
            "--gateway",
            metavar="MEMBER=URL",
            help="MEMBER=URL: reach this hospital's record gateway at URL instead of the URI it publishes in "
            "Consortium (repeatable; MEMBER is its 0x address)",
        ),
    ] = None,
) -> None:
    """Serve /01/{gtin}/10/{lot}/21/{serial} and a scan form at /, the patient portal at /portal and the
    record check page at /check (each when its contract is deployed) until interrupted."""
    import uvicorn

    from medchain import drugs
    from medchain.web import create_app

    if not -14 <= utc_offset <= 14:
        raise InputError(f"--utc-offset must be between -14 and 14 hours, got {utc_offset}")
    st = state(ctx)
    w3 = st.w3()
    suite = st.suite()
    contract = suite.drugs
    has_consent = getattr(suite, "consent", None) is not None
    if contract is None and not has_consent:
        raise ConfigError("DrugTrace is not deployed on this chain (no 'drugs' address in the manifest)")
    if relay and not has_consent:
        raise ConfigError(
            "--relay needs a ConsentRegistry on this chain (no 'consent' address in the manifest)"
        )

    from medchain.serial_publish import stored_document
    from medchain.store import default_store_path, open_store

    # the store: published serial trees served from it (a manufacturer's), fetched ones cached in it
    store_path = store or default_store_path(int(w3.eth.chain_id))
    drug_store = open_store(store_path) if contract is not None else None

    def lookup(gtin: str, lot: str, serial: str) -> DrugStatus | None:
        assert contract is not None  # (only handed to the app when DrugTrace is deployed)
        return drugs.lookup(w3, contract, gtin, lot, serial, store=drug_store)

    def trees(batch: bytes) -> dict[str, Any] | None:
        assert drug_store is not None
        return stored_document(drug_store, batch)

    portal, checker = None, None
    if has_consent:
        from medchain.web.portal import PortalService

        conn = open_store(store_path)
        relayer = st.signer() if relay else None
        portal = PortalService(w3, suite, conn, relayer, from_block=st.deploy_block())
    gateways = None
    if getattr(suite, "records", None) is not None:
        from medchain.web.check import RecordCheck
        from medchain.web.portal_gateway import PortalGateways

        gateways = PortalGateways(
            w3, suite, from_block=st.deploy_block(), overrides=_overrides(gateway or [])
        )

        check = RecordCheck(w3, suite, from_block=st.deploy_block())
        checker = (check.lookup, check.evidence)
    tz = dt.timezone(dt.timedelta(hours=utc_offset))
    application = create_app(lookup if contract is not None else None, resolver, tz=tz, portal=portal,
                             checker=checker, gateways=gateways,
                             trees=trees if drug_store is not None else None)  # fmt: skip
    pages = [f"verification page on http://{host}:{port}/ (QR resolver {resolver})"]
    if portal is not None:
        pages.append(f"patient portal on http://{host}:{port}/portal" + (" (relaying)" if relay else ""))
        pages.append(f"record check on http://{host}:{port}/check")
    typer.echo("; ".join(pages) + "; Ctrl-C stops it", err=True)
    uvicorn.run(application, host=host, port=port, log_level="info", server_header=False)


def _overrides(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        member, sep, url = value.partition("=")
        if not sep or not member.strip() or not url.strip():
            raise InputError(f"--gateway {value!r}: write MEMBER=URL, e.g. 0xAbc…=http://10.0.0.5:8081")
        out[member.strip()] = url.strip()
    return out
