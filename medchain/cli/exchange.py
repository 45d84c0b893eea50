"""`medchain records fetch` and `records fetch-all`: get a patient's records from other hospitals' gateways
(log the access on chain, request, decrypt, verify against the anchor, store). Registered on the `records`
group by :func:`register`; every command calls medchain.gateway.exchange."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import CliState, JsonOpt, console, err_console, output, state
from medchain.errors import ConfigError, InputError
from medchain.lazy import lazy

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from medchain import codes
else:
    codes = lazy("medchain.codes")

PurposeOpt = Annotated[
    str, typer.Option("--purpose", help="TREATMENT, CLAIM, RESEARCH, EMERGENCY, PUBLIC_HEALTH")
]
OutOpt = Annotated[Path, typer.Option("--out", help="directory the verified records are written to")]
PatientReq = Annotated[str, typer.Option("--patient", help="the patient's address")]


def _requester(st: CliState, patient: str) -> tuple[LocalAccount, str]:
    """The local key that signs the requests and who it requests as: the patient themselves (self-access),
    else the HOSPITAL member the key acts for."""
    from medchain.consortium import authorized_member

    key = st.signer()
    from eth_account.signers.local import LocalAccount

    if not isinstance(key, LocalAccount):
        raise ConfigError(
            "gateway requests are signed locally: give --account a name whose key is in "
            "MEDCHAIN_PRIVATE_KEY_<NAME> or MEDCHAIN_KEYSTORE_<NAME>, not a node account index"
        )
    if key.address == patient:
        return key, patient
    member = authorized_member(st.suite().consortium, key.address, "HOSPITAL")
    if member is None:
        raise InputError(
            f"account {key.address} is neither the patient nor an operator key of an active HOSPITAL member"
        )
    return key, member


def _parts(st: CliState, store: Path | None, patient: str) -> tuple[Any, Any]:
    from medchain import records as records_mod
    from medchain.addresses import checked_address
    from medchain.gateway.client import GatewayClient
    from medchain.gateway.exchange import domain_of
    from medchain.store import open_store

    patient = checked_address(patient, "patient")
    key, requester = _requester(st, patient)
    w3, suite = st.w3(), st.suite()
    registry = suite.require("records")
    conn = open_store(store if store is not None else ":memory:")
    svc = records_mod.RecordService.open(w3, registry, suite.consortium, conn, key)
    svc.from_block = st.deploy_block("RecordRegistry")
    return svc, GatewayClient(domain_of(w3, registry), key, requester)


def fetch_cmd(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="the record's leaf or record hash (0x-hex)")],
    hospital: Annotated[
        str, typer.Option("--from", help="the hospital holding it: member address or name in Consortium")
    ],
    patient: PatientReq,
    out: OutOpt,
    purpose: PurposeOpt = "TREATMENT",
    evidence: Annotated[
        Path | None, typer.Option("--evidence", help="the record's evidence package with its opening")
    ] = None,
    store: Annotated[Path | None, typer.Option("--store", help="local store (not needed to fetch)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Fetch one record from another hospital's gateway: find it in the gateway's listing (or --evidence), log
    the access on chain (a hospital; a patient fetching their own record needs no log), request it, decrypt,
    check its hash against the anchor, and store it only if it matches."""
    from medchain.gateway.exchange import fetch_one, resolve_gateway
    from medchain.openings import RecordOpening
    from medchain.text import read_json_file

    st = state(ctx, json_out)
    codes.parse_purpose(purpose)
    svc, client = _parts(st, store, patient)
    try:
        gateway = resolve_gateway(svc.consortium, hospital, st.deploy_block("Consortium"))
        opening, method = None, None
        if evidence is not None:
            document = read_json_file(evidence)
            opening = RecordOpening.from_evidence(document)
            method = str((document.get("record") or {}).get("hashMethod") or "sha256")
        row = fetch_one(
            svc, client, gateway, record, patient, purpose, out, opening=opening, hash_method=method
        )
    finally:
        client.close()
    output(st, row, title="record fetched and verified")


def fetch_all_cmd(
    ctx: typer.Context,
    patient: PatientReq,
    out: OutOpt,
    purpose: PurposeOpt = "TREATMENT",
    store: Annotated[Path | None, typer.Option("--store", help="local store (not needed to fetch)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Fetch everything the patient's consent covers at every hospital gateway in Consortium: list at each,
    log all accesses in one logAccessMany (per 256 records), fetch, verify, store. Exit 1 if any failed."""
    from medchain.gateway.exchange import fetch_all, hospital_gateways

    st = state(ctx, json_out)
    codes.parse_purpose(purpose)
    svc, client = _parts(st, store, patient)
    try:
        gateways = hospital_gateways(svc.consortium, st.deploy_block("Consortium"))
        with _bar(st) as progress:
            report = fetch_all(svc, client, gateways, patient, purpose, out, progress)
    finally:
        client.close()
    data = report.as_dict()
    if st.json:
        output(st, data)
    else:
        output(st, data["stored"], title=f"{len(report.stored)} record(s) fetched and verified")
        txs = ", ".join(report.access_txs) or "none"
        console().print(f"access logs: {txs} ({data['gasPerRecord']:,} gas/record)")
    for failure in report.failures:
        err_console().print(f"error: {failure['error']}", style="bold red", markup=False, highlight=False)
    if report.failures:
        raise typer.Exit(1)


@contextmanager
def _bar(st: CliState) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar per phase (list, log, fetch) on stderr; none with --json."""
    if st.json:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<6}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tasks: dict[str, Any] = {}
    with Progress(*columns, console=err_console()) as bar:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def register(app: typer.Typer) -> None:
    """Adds `fetch` and `fetch-all` to the `records` group."""
    app.command("fetch")(fetch_cmd)
    app.command("fetch-all")(fetch_all_cmd)
