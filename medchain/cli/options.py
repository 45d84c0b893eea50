"""Shared CLI state and options: network, acting account, manifest, --json, --debug; output helpers."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from medchain.errors import ConfigError
from medchain.text import is_digits

if TYPE_CHECKING:
    from web3 import Web3

    from medchain.chain import Signer
    from medchain.contracts import Suite

# web3 and the services load inside the commands that use them: `medchain --help` answers fast (issue 17)

#: the width of output that goes to a pipe or a file: tables are never cut (full addresses and hashes)
PIPE_WIDTH = 1000


def console() -> Console:
    """Standard output, measured now: COLUMNS and the terminal are read at each use, not at import. Piped or
    redirected output (no TTY, no COLUMNS) is not cut at 80 columns: tables keep full addresses."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return Console()
    return Console(width=PIPE_WIDTH)


def err_console() -> Console:
    """Standard error (progress bars, error lines), measured now like `console()`."""
    return Console(stderr=True)


@dataclass
class CliState:
    """What the root options resolved to; connections and keys are opened lazily, once."""

    rpc_url: str | None = None
    network: str | None = None
    account: str | None = None
    manifest: Path | None = None
    json: bool = False
    debug: bool = False
    _w3: Web3 | None = field(default=None, repr=False)
    _suite: Suite | None = field(default=None, repr=False)
    _signer: Signer | None = field(default=None, repr=False)

    def w3(self) -> Web3:
        if self._w3 is None:
            from medchain.chain import connect

            self._w3 = connect(rpc_url=self.rpc_url, network=self.network)
        return self._w3

    def suite(self) -> Suite:
        if self._suite is None:
            from medchain.deploy import load_suite

            self._suite = load_suite(self.w3(), self.manifest)
        return self._suite

    def deploy_block(self, *contracts: str) -> int:
        """Where event scans start: the earliest deployment block of `contracts` (all of the suite when none
        is named) from this chain's manifest; 0 (genesis) when the manifest does not say."""
        from medchain.deploy import read_manifest

        try:
            manifest = read_manifest(self.w3().eth.chain_id, self.manifest)
            entries = manifest.get("contracts", {})
            named = [e for name, e in entries.items() if not contracts or name in contracts]
            blocks = [int(e.get("block", 0)) for e in named]
        except (ConfigError, ValueError, TypeError, AttributeError):
            return 0
        return min(blocks, default=0)

    def signer(self) -> Signer:
        if self._signer is None:
            from medchain.chain import load_signer

            self._signer = load_signer(self.account, self.w3() if _is_index(self.account) else None)
        return self._signer


def _is_index(account: str | None) -> bool:
    return account is not None and is_digits(account.strip())


#: per-command `--json` (the root's `medchain --json ...` works too)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]


def state(ctx: typer.Context, json_out: bool = False) -> CliState:
    """The CliState of the running command (created by the root callback); `json_out` from a command's
    own --json option."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState(
            rpc_url=os.environ.get("MEDCHAIN_RPC_URL"),
            account=os.environ.get("MEDCHAIN_ACCOUNT"),
        )
    if json_out:
        root.obj.json = True
    return root.obj


def output(
    st: CliState, data: Any, rows: list[dict[str, Any]] | None = None, title: str | None = None
) -> None:
    """Print `data` as JSON with --json, else `rows` (default: `data` itself) as a table or key/value list."""
    if st.json:
        console().print_json(json.dumps(data, default=_json_default))
        return
    rows = rows if rows is not None else (data if isinstance(data, list) else [data])
    if not rows:
        console().print("(nothing)")
        return
    if len(rows) == 1 and isinstance(data, dict) and rows[0] is data:
        table = Table(show_header=False, title=title, box=None)
        for key, value in data.items():
            table.add_row(f"[bold]{key}[/]", _cell(_readable(str(key), value)))
    else:
        table = Table(title=title)
        for column in rows[0]:
            table.add_column(str(column))
        for row in rows:
            table.add_row(*(_cell(_readable(str(c), row.get(c))) for c in rows[0]))
    console().print(table)


#: table columns that hold unix times (besides names ending in At / _at / Timestamp / _timestamp)
_TIME_KEYS = frozenset({"validFrom", "validUntil", "valid_from", "valid_until", "deadline", "until"})


def _readable(key: str, value: Any) -> Any:
    """For tables only (JSON keeps raw values): unix times as ISO dates in UTC, seconds to 3 significant
    digits (`0.00252` rather than `0.0025190429998929176`)."""
    timely = key in _TIME_KEYS or key.endswith(("At", "_at", "Timestamp", "_timestamp"))
    if timely and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        from medchain.timefmt import iso

        return iso(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return value


def _cell(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return "" if value is None else str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)


def address_arg(value: str, what: str = "address") -> str:
    """Validate a user-given address; a checksum address back, or InputError naming the problem."""
    from medchain.addresses import checked_address

    return checked_address(value, what)


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\b")


class MemberNames:
    """Consortium member names beside addresses in tables (`Insurer X 0x1234…`), each looked up once; an
    address that is no member (a patient) stays as it is. An operator key shows its member's name."""

    def __init__(self, consortium: Any) -> None:
        self.consortium = consortium
        self.cache: dict[str, str] = {}

    def name(self, address: str) -> str:
        from medchain import consortium as members
        from medchain.errors import MedchainError

        key = address.lower()
        if key not in self.cache:
            try:
                member = members.member_of(self.consortium, address)
                self.cache[key] = members.get_member(self.consortium, member).name if member else ""
            except MedchainError:
                self.cache[key] = ""
        return self.cache[key]

    def label(self, address: str | None) -> str:
        """`Name address`, or the address alone."""
        if not address:
            return ""
        name = self.name(address)
        return f"{name} {address}" if name else address

    def annotate(self, text: str) -> str:
        """Every address in `text` with its member name before it."""
        return _ADDRESS.sub(lambda m: self.label(m.group(0)), text)
