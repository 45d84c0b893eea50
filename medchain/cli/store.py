"""`medchain store`: back the local store up, restore it, check it. Thin: medchain.store.backup and
medchain.records.journal_vs_chain do the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from medchain.cli.options import CliState, JsonOpt, output, state
from medchain.errors import MedchainError

app = typer.Typer(help="The local store (journals, proofs, salt keys, index): backup, restore, check.")

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="the store file (default: per chain in MEDCHAIN_HOME; asks the node)"),
]


def _path(st: CliState, store: Path | None) -> Path:
    from medchain.store import default_store_path

    return store if store is not None else default_store_path(int(st.w3().eth.chain_id))


@app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="new file for the backup (never overwritten)")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy the store to FILE with SQLite's online backup (consistent while other medchain processes write);
    the file appears under its name only once complete and checked."""
    from medchain.store.backup import backup

    st = state(ctx, json_out)
    output(st, backup(_path(st, store), out))


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a backup written by `medchain store backup`")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replace the store with a backup (checked first); the current store is kept beside it as
    <store>.before-restore-<time>. Re-run `records batch` afterwards: nothing is anchored twice."""
    from medchain.store.backup import restore

    st = state(ctx, json_out)
    output(st, restore(file, _path(st, store)))


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    offline: Annotated[bool, typer.Option("--offline", help="skip the comparison with the chain")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Integrity check, schema version, and the record journal against the chain: every record it says is
    anchored is anchored (exit 1 when anything is wrong)."""
    from medchain import records as svc_mod
    from medchain.store import open_store
    from medchain.store.backup import inspect

    st = state(ctx, json_out)
    path = _path(st, store)
    if not path.is_file():
        raise MedchainError(f"no local store at {path}: give --store FILE")
    conn = open_store(path)
    report: dict[str, Any] = {"store": str(path), **inspect(conn)}
    problems = [] if report["integrity"] == ["ok"] else list(report["integrity"])
    if not offline:
        suite = st.suite()
        svc = svc_mod.RecordService.open(st.w3(), suite.require("records"), suite.consortium, conn)
        report["chain"] = svc_mod.journal_vs_chain(svc)
        problems += report["chain"]["problems"]
    report["ok"] = not problems
    output(st, report)
    if problems:
        raise MedchainError(f"the store has {len(problems)} problem(s); first: {problems[0]}")
