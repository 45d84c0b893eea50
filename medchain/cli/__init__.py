"""`medchain`: the one command-line entry point, a sub-command group per role."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from medchain.cli import audit as audit_cmd
from medchain.cli import claims as claims_cmd
from medchain.cli import consent as consent_cmd
from medchain.cli import council as council_cmd
from medchain.cli import demo as demo_cmd
from medchain.cli import deploy as deploy_cmd
from medchain.cli import drugs as drugs_cmd
from medchain.cli import gateway as gateway_cmd
from medchain.cli import labels as labels_cmd
from medchain.cli import node as node_cmd
from medchain.cli import records as records_cmd
from medchain.cli import sandbox as sandbox_cmd
from medchain.cli import status as status_cmd
from medchain.cli import web as web_cmd
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


class MedchainGroup(TyperGroup):
    """Root group: MedchainErrors (and anything unexpected) become one line unless --debug."""

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


app.add_typer(deploy_cmd.app, name="deploy")
app.add_typer(council_cmd.app, name="council")
app.add_typer(consent_cmd.app, name="consent")
app.add_typer(records_cmd.app, name="records")
app.add_typer(claims_cmd.app, name="claims")
drugs_cmd.app.add_typer(labels_cmd.app)  # `drugs qr` and `drugs labels` beside the chain commands
app.add_typer(drugs_cmd.app, name="drugs")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(node_cmd.app, name="node")
app.add_typer(web_cmd.app, name="web")
app.add_typer(gateway_cmd.app, name="gateway")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(sandbox_cmd.app, name="sandbox")
app.command("status")(status_cmd.status)


def main() -> None:
    """Console-script entry point."""
    sys.exit(app(prog_name="medchain"))
