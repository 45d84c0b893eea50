"""`medchain audit`: index every event of the suite into the local store, then report from it — a patient's
accounting of disclosures, the claims ledger, a drug's journey, a member's activity (table, --json,
--html FILE). Thin: `index` calls medchain.indexer, the reports medchain.reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from medchain.cli.options import CliState, JsonOpt, address_arg, console, err_console, output, state
from medchain.errors import ConfigError, MedchainError
from medchain.lazy import lazy
from medchain.store import Connection, default_store_path, open_store

if TYPE_CHECKING:
    from medchain import indexer as indexer_mod
    from medchain import reports
else:
    reports = lazy("medchain.reports")
    indexer_mod = lazy("medchain.indexer")

app = typer.Typer(
    help="Audit (AUDITOR, council, patients): index the suite's events into SQLite and report from them.",
    no_args_is_help=True,
)

#: medchain.reports.CLAIM_STATUSES[1:], written out so `--help` needs no web3 (a test keeps them equal)
STATUSES_HELP = "Submitted, Approved, Rejected, Withdrawn, Escalated, Paid"

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="index database (SQLite; default: the chain's store in MEDCHAIN_HOME)"),
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="also write a self-contained HTML page (timeline) to this file")
]


def _open(st: CliState, store: Path | None) -> tuple[Connection, int]:
    """The store and chain id. With an explicit --store that holds one chain's index, no node is needed
    (a regulator can read a copied database offline); otherwise the chain id comes from the node."""
    if store is not None:
        if not store.is_file():
            raise ConfigError(f"no index store at {store}: run `medchain audit index --store {store}` first")
        conn = open_store(store)
        chains = indexer_mod.indexed_chains(conn)
        if len(chains) == 1 and st.rpc_url is None and st.network is None:
            return conn, chains[0]
        return conn, int(st.w3().eth.chain_id)
    chain_id = int(st.w3().eth.chain_id)
    path = default_store_path(chain_id)
    if not path.is_file():
        raise ConfigError(
            f"chain {chain_id} is not indexed yet (no store at {path}): run `medchain audit index` first"
        )
    return open_store(path), chain_id


def _check_indexed(conn: Connection, chain_id: int) -> None:
    if indexer_mod.index_info(conn, chain_id) is None:
        raise ConfigError(
            f"chain {chain_id} is not indexed in this store yet: run `medchain audit index` first"
        )


def _money(st: CliState) -> reports.Money:
    """The settlement token's decimals and symbol when the node and suite answer; raw units otherwise."""
    try:
        suite = st.suite()
    except (MedchainError, Exception):  # offline or no suite: raw base units
        return reports.Money()
    return reports.Money.of_claims(suite)


def _records(st: CliState) -> Any:
    try:
        return st.suite().records
    except (MedchainError, Exception):  # offline: no data classes for accessed records
        return None


def _emit(st: CliState, report: reports.Report, html: Path | None) -> None:
    if html is not None:
        reports.save(report, html_path=html)
    output(st, report.as_dict(), reports.table_rows(report), title=report.title)
    if html is not None and not st.json:
        console().print(f"wrote {html}", highlight=False)


@app.command("index")
def index_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    confirmations: Annotated[
        int, typer.Option("--confirmations", min=0, help="blocks re-read on every run (reorg window)")
    ] = 12,
    from_block: Annotated[
        int | None,
        typer.Option("--from-block", min=0, help="first block (default: the suite's deployment block)"),
    ] = None,
    to_block: Annotated[
        int | None, typer.Option("--to-block", min=0, help="last block (default: the head)")
    ] = None,
    span: Annotated[int, typer.Option("--span", min=1, help="initial eth_getLogs range in blocks")] = 1,
    senders: Annotated[
        bool,
        typer.Option("--senders/--no-senders", help="record each transaction's sender (member attribution)"),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Pull every event of the suite into the store: incremental, reorg-safe, adaptive eth_getLogs ranges."""
    st = state(ctx, json_out)
    w3 = st.w3()
    suite = st.suite()
    chain_id = int(w3.eth.chain_id)
    path = store or default_store_path(chain_id)
    conn = open_store(path)
    start = from_block if from_block is not None else st.deploy_block()
    indexer = indexer_mod.Indexer(
        w3, suite, conn, confirmations, from_block=start, span=span, senders=senders
    )
    progress = Progress(
        TextColumn("[bold]indexing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks · {task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
        disable=st.json,
    )
    with progress:
        task = progress.add_task("index", total=None, events=0)

        def report(done: int, total: int, events: int) -> None:
            progress.update(task, completed=done, total=max(total, 1), events=events)

        result = indexer.run(to_block=to_block, progress=report)
    info = indexer_mod.index_info(conn, chain_id) or {}
    data = result.as_dict() | {
        "chainId": chain_id,
        "store": str(path),
        "lastBlock": info.get("lastBlock"),
        "totalEvents": info.get("events"),
    }
    if result.seconds > 0 and result.events:
        data["eventsPerSecond"] = round(result.events / result.seconds)
    output(st, data, title="audit index")


@app.command("disclosures")
def disclosures_cmd(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="the patient's address")],
    store: StoreOpt = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A patient's accounting of disclosures: grants, revokes, guardians, accesses, break-glass, claims."""
    st = state(ctx, json_out)
    who = address_arg(patient, "patient")
    conn, chain_id = _open(st, store)
    _check_indexed(conn, chain_id)
    online = store is None or st.rpc_url is not None or st.network is not None
    report = reports.disclosures(
        conn,
        chain_id,
        who,
        records=_records(st) if online else None,
        money=_money(st) if online else reports.Money(),
    )
    _emit(st, report, html)


@app.command("claims")
def claims_cmd(
    ctx: typer.Context,
    insurer: Annotated[
        str | None, typer.Option("--insurer", help="only this insurer's claims (member address)")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="only claims in this status: " + STATUSES_HELP),
    ] = None,
    store: StoreOpt = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The shared claims ledger from events: one row per claim, with its history."""
    st = state(ctx, json_out)
    who = address_arg(insurer, "insurer") if insurer else None
    conn, chain_id = _open(st, store)
    _check_indexed(conn, chain_id)
    online = store is None or st.rpc_url is not None or st.network is not None
    report = reports.claims(conn, chain_id, insurer=who, status=status, money=_money(st) if online else None)
    _emit(st, report, html)


@app.command("drug")
def drug_cmd(
    ctx: typer.Context,
    scan: Annotated[
        str, typer.Argument(help="a GS1 scan (Digital Link URI or element string) or a 0x batch id")
    ],
    store: StoreOpt = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A drug batch's (or pack's) journey: commissioning, custody, dispenses, duplicate flags, recall."""
    st = state(ctx, json_out)
    conn, chain_id = _open(st, store)
    _check_indexed(conn, chain_id)
    _emit(st, reports.drug(conn, chain_id, scan), html)


@app.command("member")
def member_cmd(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="a member address (or one of its operator keys)")],
    store: StoreOpt = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """An institution's activity: membership, governance, consents to it, accesses, claims, custody."""
    st = state(ctx, json_out)
    who = address_arg(address, "member")
    conn, chain_id = _open(st, store)
    _check_indexed(conn, chain_id)
    online = store is None or st.rpc_url is not None or st.network is not None
    report = reports.member(conn, chain_id, who, money=_money(st) if online else None)
    _emit(st, report, html)
