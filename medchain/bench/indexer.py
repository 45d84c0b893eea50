"""Audit indexer rows: generate N suite events on Anvil (RecordAnchored from anchorMany, 500 records per
transaction: the most events per gas the suite emits) and index them into SQLite — time and rows per second
for the first run, an incremental re-run, and a report lookup.

N = $MEDCHAIN_BENCH_EVENTS (default 1,000,000). Generation is timed separately from indexing and runs on an
Anvil of its own, started with `--prune-history` (Anvil otherwise keeps a full state per block: ~13 GB
after 500 such blocks) and mining 20 transactions per block (`evm_setAutomine false` + `evm_mine`; the
block gas limit raised to fit them): Anvil's cost per block grows with the registry's storage, so 2,000
one-transaction blocks take half an hour where 100 twenty-transaction blocks take a minute.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils import function_abi_to_4byte_selector
from web3 import Web3
from web3.types import RPCEndpoint

from medchain.bench import BenchContext, make_context
from medchain.errors import ChainError
from medchain.indexer import Indexer, events_touching, index_info
from medchain.node import Anvil
from medchain.store import open_store

AREA = "Audit indexer"
#: records per anchorMany: ~12.7M gas, under the 16.7M per-transaction cap (EIP-7825) and Anvil's 30M blocks
PER_TX = 500
TX_GAS = 14_500_000
TXS_PER_BLOCK = 20
ARG_TYPES = ["bytes32[]", "bytes32[]"]


def event_count() -> int:
    return max(PER_TX, int(os.environ.get("MEDCHAIN_BENCH_EVENTS", "1000000")))


def rows(ctx: BenchContext) -> None:
    """Runs on an Anvil of its own (see the module docstring); `ctx` only collects the rows."""
    with Anvil(extra_args=["--prune-history"]) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 600}))
        measure(ctx, make_context(w3))


def measure(ctx: BenchContext, chain: BenchContext) -> None:
    n = event_count()
    generated, seconds, leaf = generate(chain, n)
    ctx.add(
        AREA,
        f"generate {generated:,} events on Anvil",
        seconds,
        unit="s",
        note=f"anchorMany × {PER_TX} records per tx, {TXS_PER_BLOCK} txs per block, "
        f"{generated // PER_TX:,} txs ({generated / seconds:,.0f} events/s); not part of the indexing time",
    )
    with tempfile.TemporaryDirectory(prefix="medchain-bench-index-") as tmp:
        path = Path(tmp) / "index.sqlite"
        conn = open_store(path)
        indexer = Indexer(chain.w3, chain.suite, conn, confirmations=12)
        first = indexer.run()
        total = (index_info(conn, indexer.chain_id) or {"events": 0})["events"]
        if total < generated:
            raise ChainError(f"indexed {total:,} events, expected at least {generated:,}")
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        rate = first.events / first.seconds
        ctx.add(
            AREA,
            f"index {first.events:,} events into SQLite (first run)",
            first.seconds,
            unit="s",
            note=f"{rate:,.0f} rows/s; {first.requests} eth_getLogs pages over {first.to_block + 1:,} "
            "blocks, tx senders looked up, WAL + synchronous=FULL, one transaction per page; "
            f"store {size_mb:,.0f} MB",
        )
        ctx.add(AREA, "index throughput (first run)", round(rate), unit="rows/s", note="decode + insert")
        again = Indexer(chain.w3, chain.suite, conn, confirmations=12).run()
        ctx.add(
            AREA,
            "incremental re-run at the head",
            again.seconds,
            unit="s",
            note=f"re-reads the 12-block confirmation window ({again.events:,} events) after a hash check",
        )
        started = time.perf_counter()
        found = events_touching(conn, int(chain.w3.eth.chain_id), leaf)
        lookup = (time.perf_counter() - started) * 1000
        assert len(found) == 1
        ctx.add(
            AREA, f"find one record's events among {total:,}", lookup, unit="ms", note="event_subjects index"
        )
        conn.close()


def generate(ctx: BenchContext, n: int) -> tuple[int, float, str]:
    """Send ceil(n / PER_TX) anchorMany transactions, TXS_PER_BLOCK per mined block; returns (events,
    seconds, one leaf to look up). Calldata is ABI-encoded with the web3 codec directly
    (contract.encode_abi's argument normalisation costs ~0.1 s per 500-record call); the first one is
    checked against encode_abi."""
    w3 = ctx.w3
    registry = ctx.suite.require("records")
    hospital = ctx.accounts["hospital"]
    selector = function_abi_to_4byte_selector(registry.get_function_by_name("anchorMany").abi)
    txs = -(-n // PER_TX)
    _rpc(w3, "evm_setAutomine", [False])
    _rpc(w3, "evm_setBlockGasLimit", [hex(TX_GAS * TXS_PER_BLOCK + 1_000_000)])
    started = time.perf_counter()
    first_leaves: list[bytes] = []
    last = ""
    try:
        for i in range(txs):
            blob = os.urandom(64 * PER_TX)  # record hashes and leaves (any unique values do here)
            hashes = [blob[j : j + 32] for j in range(0, 32 * PER_TX, 32)]
            leaves = [blob[j : j + 32] for j in range(32 * PER_TX, len(blob), 32)]
            data = "0x" + (selector + w3.codec.encode(ARG_TYPES, [hashes, leaves])).hex()
            if i == 0:
                assert data == registry.encode_abi("anchorMany", [hashes, leaves])
                first_leaves = leaves
            params = {"from": hospital, "to": registry.address, "data": data, "gas": hex(TX_GAS)}
            last = _rpc(w3, "eth_sendTransaction", [params])
            if (i + 1) % TXS_PER_BLOCK == 0 or i + 1 == txs:
                _rpc(w3, "evm_mine", [])
    finally:
        _rpc(w3, "evm_setAutomine", [True])
    seconds = time.perf_counter() - started
    receipt = w3.eth.get_transaction_receipt(last)  # type: ignore[arg-type]
    if receipt["status"] != 1:
        raise ChainError("the last anchorMany reverted")
    leaf = first_leaves[0]
    return txs * PER_TX, seconds, Web3.to_hex(leaf)


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        raise ChainError(f"{method} refused: {response['error']}")
    return response.get("result")
