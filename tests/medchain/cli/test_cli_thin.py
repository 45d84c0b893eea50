"""CLI commands only parse, call a service and print (issue 15): no module of medchain/cli/ reads block times
or calls a contract itself. A command that needs the chain's clock or a contract's state asks a service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[3] / "medchain" / "cli"
#: what only service modules may do: read a block or its time, call a contract, build a contract handle
FORBIDDEN = {
    "a block read": re.compile(r"\bget_block\s*\("),
    "a block time": re.compile(r"""\[\s*["']timestamp["']\s*\]"""),
    "the chain's clock": re.compile(r"\blatest_time\b"),
    "a raw contract call": re.compile(r"\.functions\."),
    "a raw event read": re.compile(r"\.events\.[A-Za-z_]+\s*\("),
    "a contract handle": re.compile(r"\beth\.contract\s*\("),
}


def _cli_files() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def test_the_cli_folder_is_where_this_test_looks() -> None:
    names = {path.name for path in _cli_files()}
    assert {"claims.py", "consent.py", "drugs.py", "status.py", "audit.py"} <= names


@pytest.mark.parametrize("path", _cli_files(), ids=lambda p: p.name)
def test_no_block_time_reads_or_contract_calls_in_cli(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {what}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert not found, "move these into the service module they belong to:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    ['now = int(st.w3().eth.get_block("latest")["timestamp"])', "x = contract.functions.getProduct(1).call()",
     "now = chain.latest_time(w3)", "token = w3.eth.contract(address=a, abi=b)",
     "logs = c.events.ClaimSubmitted().get_logs()"],
)  # fmt: skip
def test_the_scan_catches_each_pattern(line: str) -> None:
    assert any(pattern.search(line) for pattern in FORBIDDEN.values())
