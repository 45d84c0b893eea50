"""`medchain`: the one command-line entry point, a sub-command group per role."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from medchain.cli import status as status_cmd
from medchain.cli.options import CliState, err_console
from medchain.errors import MedchainError, one_line

if TYPE_CHECKING:
    # the Context type TyperGroup.invoke is declared with (typer vendors click as typer._click)
    from typer._click import Context as ClickContext


_display_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: Any) -> str | None:
    """Help shows a flag as a flag (`--json`), not as an option taking a value (`--json <bool>`)."""
    return None if self.is_flag else _display_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


def _fail(message: str) -> typer.Exit:
    """Print an expected failure as one line on stderr; the returned Exit(1) is raised by the caller."""
    err_console().print(
        f"error: {one_line(message)}", style="bold red", highlight=False, soft_wrap=True, markup=False
    )
    return typer.Exit(1)


#: the sub-command groups, loaded only when used (each pulls in web3 and its services): name -> (module, help)
GROUPS: dict[str, tuple[str, str]] = {
    "deploy": ("deploy", "Deploy the suite and inspect deployments."),
    "council": ("council", "Council governance, members and operator keys (the Consortium)."),
    "consent": (
        "consent",
        "Patient consent (EIP-712 signed or direct), guardians and break-glass (ConsentRegistry).",
    ),
    "records": (
        "records",
        "Medical-record anchoring (HOSPITAL): hash, anchor, batch, verify, evidence, access log.",
    ),
    "claims": ("claims", "Insurance claims: submit claim files, decide, escalate, pay, collect payouts."),
    "drugs": ("drugs", "Drug traceability: products, batches, custody, dispensing, recalls, trace."),
    "audit": (
        "audit",
        "Audit (AUDITOR, council, patients): index the suite's events into SQLite and report from them.",
    ),
    "node": ("node", "Run a local chain that keeps its state between runs."),
    "web": ("web", "Web pages: consumer drug verification, patient portal, record check."),
    "gateway": (
        "gateway",
        "The hospital's record gateway: serves its anchored records under consent, encrypted.",
    ),
    "demo": ("demo", "Run the end-to-end demo on a fresh local chain."),
    "store": ("store", "The local store (journals, proofs, salt keys, index): backup, restore, check."),
    "sandbox": (
        "sandbox",
        "One command to a working local consortium (free-gas Anvil, 2-of-3 council, every README role).",
    ),
}


def load_group(name: str) -> Any:
    """The click group of sub-command `name`, importing its module now."""
    import importlib

    from typer.main import get_group

    module = importlib.import_module(f"medchain.cli.{GROUPS[name][0]}")
    sub: typer.Typer = module.app
    if name == "drugs":  # `drugs qr` and `drugs labels` beside the chain commands
        from medchain.cli import labels as labels_cmd

        if labels_cmd.app not in [info.typer_instance for info in sub.registered_groups]:
            sub.add_typer(labels_cmd.app)
    group = get_group(sub)
    group.name = name
    return group


class MedchainGroup(TyperGroup):
    """Root group: sub-command groups load on first use (the root's help lists them from GROUPS without
    importing them); MedchainErrors (and anything unexpected) become one line unless --debug."""

    _listing = False

    def list_commands(self, ctx: ClickContext) -> list[str]:
        own = super().list_commands(ctx)
        return [*(name for name in GROUPS if name not in own), *own]

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in GROUPS:
            return command
        if self._listing:  # the root's help needs the name and help only
            return TyperGroup(name=cmd_name, help=GROUPS[cmd_name][1])
        command = load_group(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: ClickContext, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except MedchainError as exc:
            if _debug(ctx):
                raise
            raise _fail(str(exc)) from None
        except Exception as exc:  # never a traceback without --debug
            if _debug(ctx) or type(exc).__module__.startswith("typer"):
                raise  # --debug, or typer's own exits, usage errors and aborts
            first = str(exc).splitlines()[0] if str(exc) else ""
            message = f"unexpected {type(exc).__name__}: {first} (re-run with --debug for details)"
            raise _fail(message) from None


def _debug(ctx: ClickContext) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, "debug", False))


app = typer.Typer(
    cls=MedchainGroup,
    help="MedChain: consortium health-care chain tooling (deploy, council, consent, records, claims, drugs).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from medchain import __version__

        typer.echo(f"medchain {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", envvar="MEDCHAIN_RPC_URL", help="EVM JSON-RPC endpoint")
    ] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="brownie network id instead of --rpc-url")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            envvar="MEDCHAIN_ACCOUNT",
            help="acting key: a name N (keys from MEDCHAIN_PRIVATE_KEY_N / MEDCHAIN_KEYSTORE_N)"
            " or a node account index",
        ),
    ] = None,
    manifest: Annotated[Path | None, typer.Option("--manifest", help="deployment manifest JSON")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable JSON output")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    ctx.obj = CliState(
        rpc_url=rpc_url, network=network, account=account, manifest=manifest, json=json_out, debug=debug
    )



app.command("status")(status_cmd.status)  # light: its imports load inside


def main() -> None:
    """Console-script entry point."""
    sys.exit(app(prog_name="medchain"))
