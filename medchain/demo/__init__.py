"""`make demo` / `medchain demo`: the whole platform end to end on a local chain the demo starts itself.

Deploy + 2-of-3 council admissions → a patient's offline-signed consent relayed by a hospital → single and
10,000-record Merkle anchoring, an evidence package verified by another hospital and its access logged →
a policy, a claim through the claim-submission tool, a duplicate claim refused, dual-control approval and
the payout → a drug batch through custody, dispensing, a duplicate scan and a recall with the consumer page
for each state → a break-glass opening reviewed by the auditor → reports and a privacy scan.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from rich.console import Console
from rich.table import Table
from web3 import Web3

from medchain.chain import Signer
from medchain.contracts import Suite

ROLES_BY_ACTOR = {
    "hospital_a": ("HOSPITAL", "Provincial People's Hospital 省人民医院"),
    "hospital_b": ("HOSPITAL", "City Central Hospital 市中心医院"),
    "insurer_x": ("INSURER", "Insurer X 平安健康"),
    "insurer_y": ("INSURER", "Insurer Y 人保健康"),
    "manufacturer": ("MANUFACTURER", "Ganjiang Pharma 赣江制药"),
    "distributor": ("DISTRIBUTOR", "Jiangxi Medicine Distribution 江西医药"),
    "pharmacy": ("PHARMACY", "Laobaixing Pharmacy 老百姓大药房"),
    "auditor": ("AUDITOR", "Provincial Audit Office 审计厅"),
}
COUNCIL = ("Health Commission 卫健委", "Medical Insurance Bureau 医保局", "Drug Administration 药监局")


@dataclass
class StepResult:
    number: int
    title: str
    seconds: float
    gas: int
    txs: int
    notes: list[str] = field(default_factory=list)


@dataclass
class DemoContext:
    """Everything the steps share."""

    w3: Web3
    chain: str
    out: Path
    console: Console
    records: int
    actors: dict[str, LocalAccount] = field(default_factory=dict)
    suite: Suite | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)

    def address(self, actor: str) -> str:
        return str(self.actors[actor].address)

    def signer(self, actor: str) -> Signer:
        return self.actors[actor]

    def say(self, text: str) -> None:
        self.console.print(f"    {text}", highlight=False, markup=False)

    @contextmanager
    def step(self, number: int, title: str) -> Iterator[StepResult]:
        """Time a step and add up the gas of every transaction mined while it runs."""
        self.console.rule(f"[bold cyan]{number}. {title}")
        first_block = self.w3.eth.block_number + 1
        started = time.perf_counter()
        result = StepResult(number, title, 0.0, 0, 0)
        yield result
        result.seconds = time.perf_counter() - started
        for block_number in range(first_block, self.w3.eth.block_number + 1):
            block = self.w3.eth.get_block(block_number, full_transactions=False)
            for tx_hash in block["transactions"]:
                # hashes only (full_transactions=False), never TxData
                receipt = self.w3.eth.get_transaction_receipt(cast(HexBytes, tx_hash))
                result.gas += int(receipt["gasUsed"])
                result.txs += 1
        self.steps.append(result)
        self.console.print(
            f"    [dim]{result.txs} transactions, {result.gas:,} gas, {result.seconds:.1f} s[/]",
            highlight=False,
        )


def _actors(w3: Web3, funder: str | None) -> dict[str, LocalAccount]:
    """Fresh local keys for every party (deterministic per run would leak across runs: new ones each
    time). Funded from the node's first account when the chain charges gas; the patient never holds ETH."""
    names = [
        "council_1", "council_2", "council_3", *ROLES_BY_ACTOR, "insurer_x_op1", "insurer_x_op2", "patient"
    ]  # fmt: skip
    actors = {name: Account.create() for name in names}
    if funder is not None:
        for name, account in actors.items():
            if name != "patient":
                w3.eth.send_transaction(
                    {"from": funder, "to": account.address, "value": 10**19}  # type: ignore[typeddict-item]
                )
    return actors


def run(chain: str = "anvil", out_dir: Path | None = None, records: int = 10_000,
        console: Console | None = None, keep_running: bool = False) -> DemoContext:  # fmt: skip
    """Run every step on a fresh chain: `anvil` (default; free gas), `ganache` (7.9.2; pays gas from its
    first dev account), `hardhat` (Hardhat 3's node; free gas), each started here on a free port with chain id
    1337, or `pyevm` (py-evm in process)."""
    from medchain import node as node_mod
    from medchain.artifacts import project_root
    from medchain.chain import connect_pyevm
    from medchain.errors import InputError

    if chain not in (*node_mod.CLIENTS, "pyevm"):
        raise InputError(f"unknown chain {chain!r}: use one of {', '.join((*node_mod.CLIENTS, 'pyevm'))}")
    console = console or Console()
    out = out_dir or project_root() / "reports" / "demo"
    if out.exists():
        shutil.rmtree(out)  # a second run starts clean
    out.mkdir(parents=True)
    node: node_mod.LocalNode | None = None
    if chain == "pyevm":
        w3 = connect_pyevm()
        funder: str | None = w3.eth.accounts[0]
        console.print("[bold]MedChain demo[/] on py-evm (eth-tester, in process)")
    else:
        # Anvil and Hardhat run free gas (base fee 0), as the consortium's Besu network does; Ganache has no
        # zero base fee, so there every party but the patient is funded from the node's first account.
        node = node_mod.node_class(chain)(chain_id=1337, gas_price=0 if chain == "anvil" else None).start()
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        funder = w3.eth.accounts[0] if chain == "ganache" else None
        gas = "free-gas " if funder is None else ""
        console.print(f"[bold]MedChain demo[/] on a fresh {gas}{chain} at {node.url} (chain 1337)")
    ctx = DemoContext(w3=w3, chain=chain, out=out, console=console, records=records)
    try:
        ctx.actors = _actors(w3, funder)
        if node is not None and keep_running:
            ctx.facts["node"] = node  # the caller stops it
        from medchain.demo import steps

        for step in steps.STEPS:
            step(ctx)
        summary(ctx)
    except BaseException:
        if node is not None:
            node.stop()  # never leave a node behind on failure, even when asked to keep it running
        raise
    if node is not None and not keep_running:
        node.stop()
    return ctx


def summary(ctx: DemoContext) -> None:
    table = Table(title="MedChain demo: gas and time per step")
    for column in ("step", "transactions", "gas", "seconds"):
        table.add_column(column, justify="right" if column != "step" else "left")
    for s in ctx.steps:
        table.add_row(f"{s.number}. {s.title}", str(s.txs), f"{s.gas:,}", f"{s.seconds:.1f}")
    table.add_row("[bold]total", str(sum(s.txs for s in ctx.steps)), f"{sum(s.gas for s in ctx.steps):,}",
                  f"{sum(s.seconds for s in ctx.steps):.1f}")  # fmt: skip
    ctx.console.print(table)
    rows = [s.__dict__ for s in ctx.steps]
    (ctx.out / "gas.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| step | transactions | gas | seconds |", "|---|---:|---:|---:|"]
    lines += [f"| {s.number}. {s.title} | {s.txs} | {s.gas:,} | {s.seconds:.1f} |" for s in ctx.steps]
    (ctx.out / "gas.md").write_text("\n".join(lines) + "\n")
    ctx.console.print(f"reports written to {ctx.out}")


Step = Callable[[DemoContext], None]
