"""`medchain deploy`: deploy the suite with the one deployment plan and write the chain's manifest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import JsonOpt, address_arg, console, output, state
from medchain.errors import InputError
from medchain.lazy import lazy

if TYPE_CHECKING:
    from medchain import deploy as deploy_mod
else:
    deploy_mod = lazy("medchain.deploy")

app = typer.Typer(
    help="Deploy the suite and inspect deployments.", no_args_is_help=False, invoke_without_command=True
)


@app.callback(invoke_without_command=True)
def deploy(
    ctx: typer.Context,
    council: Annotated[
        str | None, typer.Option(help="comma-separated council member addresses (default: the deployer)")
    ] = None,
    names: Annotated[str | None, typer.Option(help="comma-separated council member names")] = None,
    threshold: Annotated[int, typer.Option(help="council approvals needed (k of n)")] = 1,
    token: Annotated[
        str | None, typer.Option(help="settlement ERC-20 address (default: deploy the test token)")
    ] = None,
    force: Annotated[bool, typer.Option(help="deploy a new suite over a live manifest")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Deploy Consortium, ConsentRegistry, RecordRegistry, ClaimsManager and DrugTrace."""
    if ctx.invoked_subcommand is not None:
        return
    st = state(ctx, json_out)
    w3 = st.w3()
    deployer = st.signer()
    members = [address_arg(a, "council member") for a in council.split(",")] if council else None
    if members is None:
        from medchain.chain import signer_address

        members = [signer_address(deployer)]
    member_names = [n.strip() for n in names.split(",")] if names else None
    if member_names is not None and len(member_names) != len(members):
        raise InputError(f"{len(members)} council addresses but {len(member_names)} names")
    token_address = address_arg(token, "token") if token else None

    def progress(name: str, entry: dict[str, Any]) -> None:
        if not st.json:
            console().print(f"  {name:<16} {entry['address']}  gas {entry['gasUsed']:,}")

    manifest = deploy_mod.deploy_all(
        w3, deployer, members, member_names, threshold, token_address, force=force, progress=progress
    )
    if st.json:
        output(st, manifest)
    else:
        where = deploy_mod.manifest_path(manifest["chainId"])
        console().print(f"[green]deployed[/] on chain {manifest['chainId']} -> {where}")


@app.command("show")
def show(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show the manifest recorded for the connected chain."""
    st = state(ctx, json_out)
    manifest = deploy_mod.read_manifest(st.w3().eth.chain_id, st.manifest)
    rows = [{"contract": k, **v} for k, v in manifest["contracts"].items()]
    output(st, manifest, rows, title=f"chain {manifest['chainId']}")
