"""Issue 17 item 9: `medchain --help`, `--version` and every command's `--help` answer without importing
web3 or the services (they load inside the commands that use them); the root's help lists every group from
its table with the group's own help text. The time itself is a `make bench` row, not a timed test."""

from __future__ import annotations

import json
import subprocess
import sys

from medchain import claims, reports
from medchain.cli import GROUPS, load_group
from medchain.cli import audit as audit_cli
from medchain.cli import claims as claims_cli

PROBE = r"""
import importlib.util, json, sys
from typer.main import get_command
from medchain.cli import app

# a module counts once it has run: medchain.lazy registers some in sys.modules before their first use
HEAVY = %r
RECORDS_ONLY = ("sqlite3", "rich.progress")  # the store and the progress bar load in the commands using them


def loaded():
    lazy = importlib.util._LazyModule
    return {n for n, m in list(sys.modules.items()) if m is not None and not isinstance(m, lazy)}


def heavy(names, roots):
    return sorted({r for r in roots for n in names if n == r or n.startswith(r + ".")})


seen, before = {}, loaded()
root = get_command(app)
for args in (["--help"], ["--version"], *([name, "--help"] for name in root.list_commands(None))):
    try:
        app(args, prog_name="medchain")
    except SystemExit:
        pass
    now = loaded()
    # what this command loaded first (each runs in the same process, so an earlier one is blamed first)
    seen[" ".join(args)] = heavy(now - before, HEAVY + (RECORDS_ONLY if args[0] == "records" else ()))
    before = now
print(json.dumps(seen))
"""

#: the chain, crypto and web stacks, the GS1 parser and the QR/image writers: only commands that talk to a
#: chain, sign, encrypt, serve, parse a scan or draw a code load them
HEAVY = (
    *("biip", "segno", "PIL"),
    *("web3", "eth_account", "eth_abi", "eth_utils", "eth_keys", "eth_hash", "hexbytes", "rlp"),
    *("requests", "aiohttp", "websockets", "cryptography", "Crypto", "fastapi", "starlette", "uvicorn"),
    "brownie",
)


def test_help_and_version_load_no_heavy_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"--help", "--version", "records --help"} <= set(seen) and len(seen) >= len(GROUPS) + 2
    assert {k: v for k, v in seen.items() if v} == {}


def test_records_help_alone_loads_no_heavy_module() -> None:
    """`medchain records --help` as a fresh process runs it: nothing of the chain stacks, no store, no bar."""
    probe = PROBE % (HEAVY,)
    every = '(["--help"], ["--version"], *([name, "--help"] for name in root.list_commands(None)))'
    assert every in probe
    probe = probe.replace(every, '(["records", "--help"],)')
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"records --help": []}


def test_every_subcommand_help_loads_no_heavy_module() -> None:
    """Each group's sub-commands' --help too (typer evaluates every parameter annotation and help text)."""
    probe = r"""
import json, sys
import click
from medchain.cli import GROUPS, app, load_group
bad = {}
for name in GROUPS:
    group = load_group(name)
    for sub in group.list_commands(None):
        cmd = group.get_command(None, sub)
        subs = cmd.list_commands(None) if isinstance(cmd, click.Group) else [None]
        for leaf in subs:
            args = [name, sub, *([leaf] if leaf else []), "--help"]
            try:
                app(args, prog_name="medchain")
            except SystemExit:
                pass
            if "web3.main" in sys.modules:
                bad[" ".join(args)] = "web3"
                sys.exit(print(json.dumps(bad)))
print(json.dumps(bad))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


def test_the_root_table_matches_each_group() -> None:
    for name, (_module, text) in GROUPS.items():
        assert load_group(name).help == text, name


def test_written_out_help_lists_match_the_services() -> None:
    assert claims_cli.REASONS_HELP == ", ".join(claims.REJECT_REASONS)
    assert audit_cli.STATUSES_HELP == ", ".join(reports.CLAIM_STATUSES[1:])
