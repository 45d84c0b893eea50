"""`medchain sandbox`: a free-gas local chain with the whole consortium on it, and an env file to `source`."""

from __future__ import annotations

from typing import Annotated

import typer

from medchain.cli.options import JsonOpt, console, output, state

app = typer.Typer(
    help="One command to a working local consortium (free-gas Anvil, 2-of-3 council, every README role).",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def sandbox(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option(envvar="MEDCHAIN_SANDBOX_PORT", help="port of the sandbox node")
    ] = 8545,
    json_out: JsonOpt = False,
) -> None:
    """Start (or reuse) a background free-gas Anvil; deploy the suite with a 2-of-3 council, admit every
    README role, mint test tokens to the insurers, write .medchain/sandbox.env; a re-run changes nothing."""
    if ctx.invoked_subcommand is not None:
        return
    from medchain.sandbox import make_sandbox

    st = state(ctx, json_out)
    report = make_sandbox(port)
    if st.json:
        output(st, report.as_dict())
        return
    out = console()
    node = "started" if report.started else "already running"
    out.print(f"[green]sandbox[/] free-gas anvil {node} on {report.rpc_url} (chain {report.chain_id}, "
              f"pid {report.pid})", highlight=False)  # fmt: skip
    out.print(
        "suite deployed (2-of-3 council)" if report.deployed else "suite already deployed", highlight=False
    )
    for what, names in (("admitted", report.admitted), ("operator keys", report.operators)):
        if names:
            out.print(f"{what}: {', '.join(names)}", highlight=False)
    for name, amount in report.minted.items():
        out.print(f"minted {amount:,} test tokens to {name}", highlight=False)
    out.print(f"named accounts in {report.env_file}; use them with:", highlight=False)
    out.print(f"  source {report.env_file}", highlight=False, soft_wrap=True)
    out.print("stop it with: medchain sandbox stop (its state is kept for the next start)", highlight=False)


@app.command("stop")
def stop(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Stop this home's sandbox node; its state is saved and loaded by the next `medchain sandbox`."""
    from medchain.sandbox import stop_node

    st = state(ctx, json_out)
    pid = stop_node()
    if st.json:
        output(st, {"stopped": pid is not None, "pid": pid})
    else:
        console().print(f"sandbox node {pid} stopped; state saved" if pid else "no sandbox node is running")


@app.command("env")
def env(ctx: typer.Context) -> None:
    """Print the sandbox's env file (for `eval "$(medchain sandbox env)"`)."""
    from medchain.errors import ConfigError
    from medchain.sandbox import env_path

    state(ctx)
    path = env_path()
    if not path.is_file():
        raise ConfigError(f"no sandbox env file at {path}: run `medchain sandbox` first")
    typer.echo(path.read_text(), nl=False)
