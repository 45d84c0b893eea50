"""medchain.indexer on real Anvils: decoding equal to web3's, incremental resume, a node that refuses large
ranges, reorgs (evm_revert + new transactions, anvil_reorg) repaired so the store matches the chain."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from test_reports import World, build_world
from web3 import Web3
from web3._utils.events import get_event_data
from web3.logs import DISCARD
from web3.providers import HTTPProvider
from web3.utils.abi import filter_abi_by_type

from medchain import indexer as ix
from medchain.codes import ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all
from medchain.errors import ChainError
from medchain.indexer import SUITE_PARTS, Indexer, events_touching
from medchain.node import Anvil
from medchain.store import open_store
from medchain.tx import forget_nonces, send

# ---- helpers ----


def snapshot(conn: sqlite3.Connection, chain_id: int) -> list[tuple[Any, ...]]:
    """The stored events as comparable tuples (ids excluded)."""
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT block_number, block_hash, tx_hash, log_index, timestamp, contract, event, args, tx_from "
            "FROM event_log WHERE chain_id = ? ORDER BY block_number, log_index",
            (chain_id,),
        )
    ]


def chain_events(w3: Web3, suite: Suite) -> list[tuple[int, str, int, str, dict[str, Any]]]:
    """Every suite event from the node, decoded by web3: (block, block hash, log index, name, args)."""
    out = []
    for part in SUITE_PARTS:
        contract = getattr(suite, part)
        if contract is None:
            continue
        entries = {
            "0x" + keccak(text=f"{e['name']}({','.join(ix._abi_type(i) for i in e['inputs'])})").hex(): e
            for e in filter_abi_by_type("event", contract.abi)
        }
        for log in w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": contract.address}):
            entry = entries["0x" + bytes(log["topics"][0]).hex()]
            data = get_event_data(w3.codec, entry, log)
            args = {k: ix._value(v) for k, v in data["args"].items()}
            out.append(
                (
                    log["blockNumber"],
                    "0x" + bytes(log["blockHash"]).hex(),
                    log["logIndex"],
                    data["event"],
                    args,
                )
            )
    return sorted(out, key=lambda e: (e[0], e[2]))


def stored_events(conn: sqlite3.Connection, chain_id: int) -> list[tuple[int, str, int, str, dict[str, Any]]]:
    import json

    rows = conn.execute(
        "SELECT block_number, block_hash, log_index, event, args FROM event_log WHERE chain_id = ? "
        "ORDER BY block_number, log_index",
        (chain_id,),
    )
    return [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


class RefusingProvider(HTTPProvider):
    """A node that refuses eth_getLogs over more than `limit` blocks, the way public endpoints do."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, request_kwargs={"timeout": 60})
        self.limit = limit
        self.spans: list[int] = []
        self.refused = 0

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            self.spans.append(span)
            if span > self.limit:
                self.refused += 1
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32005, "message": f"block range > {self.limit}"},
                }
        return super().make_request(method, params)


@pytest.fixture(scope="module")
def world(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(anvil, tmp_path_factory.mktemp("indexer-world"))


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_store(tmp_path / "index.sqlite")
    yield connection
    connection.close()


# ---- decoding, resume, progress ----


def test_index_matches_web3_decoding_of_every_event(world: World, conn: sqlite3.Connection) -> None:
    calls: list[tuple[int, int, int]] = []
    result = Indexer(world.w3, world.suite, conn, confirmations=0).run(progress=lambda *a: calls.append(a))
    expected = chain_events(world.w3, world.suite)
    assert stored_events(conn, world.w3.eth.chain_id) == expected
    assert (
        result.events == len(expected) > 60
        and result.from_block == 0
        and result.to_block == world.facts["head"]
    )
    assert calls[-1] == (world.facts["head"] + 1, world.facts["head"] + 1, len(expected))
    # senders: every event knows its transaction's sender
    senders = {r[0] for r in conn.execute("SELECT tx_from FROM event_log")}
    assert None not in senders and world.acc["key_a"].lower() in senders


def test_incremental_resume_reads_only_new_blocks_plus_the_window(world: World, tmp_path: Path) -> None:
    cid = world.w3.eth.chain_id
    head = world.facts["head"]
    full = open_store(tmp_path / "full.sqlite")
    Indexer(world.w3, world.suite, full, confirmations=0).run(to_block=head)
    conn = open_store(tmp_path / "inc.sqlite")
    first = Indexer(world.w3, world.suite, conn, confirmations=3).run(to_block=head // 2)
    assert (
        first.to_block == head // 2
        and conn.execute("SELECT last_block FROM index_state").fetchone()[0] == head // 2
    )
    second = Indexer(world.w3, world.suite, conn, confirmations=3).run(to_block=head)
    assert second.from_block == head // 2 + 1 - 3 and second.reorg_from is None
    assert snapshot(conn, cid) == snapshot(full, cid)
    again = Indexer(world.w3, world.suite, conn, confirmations=3).run(to_block=head)
    assert again.from_block == head - 2 and again.events == again.dropped  # only the window, re-read
    assert snapshot(conn, cid) == snapshot(full, cid)
    subjects = conn.execute("SELECT COUNT(*) FROM event_subjects").fetchone()[0]
    assert subjects == full.execute("SELECT COUNT(*) FROM event_subjects").fetchone()[0]


def test_a_node_refusing_large_ranges_still_gives_every_event(world: World, tmp_path: Path) -> None:
    provider = RefusingProvider(world.node.url, limit=4)
    w3 = Web3(provider)
    conn = open_store(tmp_path / "refused.sqlite")
    result = Indexer(w3, Suite.load(w3, _manifest(world)), conn, confirmations=0, span=64).run()
    # the whole chain (n blocks), n/2, n/4, n/8 refused; then it never asks for more than it was last granted
    n = provider.spans[0]
    assert n == int(world.w3.eth.block_number) + 1 and 32 <= n < 64  # so exactly 4 halvings exceed the limit
    assert result.refused == provider.refused == 4
    assert provider.spans[:5] == [n, n // 2, n // 4, n // 8, n // 16] and max(provider.spans[4:]) <= 4
    assert stored_events(conn, w3.eth.chain_id) == chain_events(world.w3, world.suite)


def test_a_node_refusing_every_range_is_a_one_line_chain_error(world: World, tmp_path: Path) -> None:
    w3 = Web3(RefusingProvider(world.node.url, limit=0))
    indexer = Indexer(w3, Suite.load(w3, _manifest(world)), open_store(tmp_path / "x.sqlite"), span=8)
    with pytest.raises(ChainError, match=r"refuses eth_getLogs even for block 0: block range > 0"):
        indexer.run()


def test_large_pages_shrink_the_range(world: World, tmp_path: Path) -> None:
    provider = RefusingProvider(world.node.url, limit=10**9)
    w3 = Web3(provider)
    conn = open_store(tmp_path / "small.sqlite")
    result = Indexer(w3, Suite.load(w3, _manifest(world)), conn, confirmations=0, span=32, max_logs=5).run()
    assert result.requests > 5 and provider.spans[0] > provider.spans[1]
    assert stored_events(conn, w3.eth.chain_id) == chain_events(world.w3, world.suite)


def test_a_block_changing_during_a_page_is_read_again(
    world: World, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ix._Rpc.blocks
    lied: list[int] = []

    def flaky(self: Any, numbers: Any) -> Any:
        out = real(self, numbers)
        if not lied and len(numbers) == 1 and out[numbers[0]] is not None:
            lied.append(numbers[0])
            return {numbers[0]: ("0x" + "ee" * 32, out[numbers[0]][1])}
        return out

    monkeypatch.setattr(ix._Rpc, "blocks", flaky)
    Indexer(world.w3, world.suite, conn, confirmations=0).run()
    assert lied and stored_events(conn, world.w3.eth.chain_id) == chain_events(world.w3, world.suite)


def test_report_queries_use_their_selective_indexes(world: World, conn: sqlite3.Connection) -> None:
    Indexer(world.w3, world.suite, conn, confirmations=0).run()
    cid = world.w3.eth.chain_id
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    events_touching(conn, cid, world.patient)
    ix.events_by_tx_sender(conn, cid, [world.acc["key_a"]])
    ix.events_named(conn, cid, "ClaimsManager", ["ClaimSubmitted"])
    conn.set_trace_callback(None)
    plans = [
        " | ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in seen
        if sql.lstrip().upper().startswith("SELECT")
    ]
    assert len(plans) == 3
    for plan, index in zip(plans, ("subjects_value", "txs_sender", "events_name"), strict=True):
        assert index in plan and "SCAN" not in plan.replace("SCAN CONSTANT", ""), plan


def test_in_process_py_evm_chain_is_indexed_through_web3() -> None:
    """eth-tester's provider is not JSON-RPC: the indexer takes the web3 methods there (CHAIN=pyevm demo)."""
    from web3 import EthereumTesterProvider

    w3 = Web3(EthereumTesterProvider())
    a = w3.eth.accounts
    suite = Suite.load(w3, deploy_all(w3, a[0], [a[0]], ["Council"], 1, write=False))
    consent = suite.consent
    assert consent is not None
    send(w3, consent.functions.grant(a[0], 1, 8, 0, 0), a[2])
    conn = sqlite3.connect(":memory:", isolation_level=None)
    result = Indexer(w3, suite, conn, confirmations=0).run()
    assert result.events == len(chain_events(w3, suite)) > 1
    assert stored_events(conn, w3.eth.chain_id) == chain_events(w3, suite)
    (granted,) = events_touching(conn, w3.eth.chain_id, a[2])
    assert granted["event"] == "ConsentGranted" and granted["txFrom"] == a[2]


def _manifest(world: World) -> dict[str, Any]:
    import json

    return dict(json.loads(world.manifest.read_text()))


# ---- reorgs (a private chain each: they rewrite history) ----


class Small:
    """The suite and one hospital on a private Anvil."""

    def __init__(self, node: Anvil) -> None:
        self.w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        a = self.w3.eth.accounts
        self.council, self.hospital = a[0], a[3]
        manifest = deploy_all(self.w3, a[0], [a[0]], ["Council"], 1, write=False)
        self.suite = Suite.load(self.w3, manifest)
        c = self.suite.consortium
        receipt = send(self.w3, c.functions.propose(1, a[3], ROLE_BITS["HOSPITAL"], "Hospital", ""), a[0])
        pid = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
        send(self.w3, c.functions.execute(pid), a[0])

    def anchor(self, n: int, blocks: int) -> list[str]:
        """`blocks` transactions of `n` records each; the leaves."""
        records = self.suite.records
        assert records is not None
        leaves = []
        for _ in range(blocks):
            receipt = send(
                self.w3,
                records.functions.anchorMany(
                    [os.urandom(32) for _ in range(n)], [os.urandom(32) for _ in range(n)]
                ),
                self.hospital,
            )
            leaves += [
                "0x" + bytes(e["args"]["leaf"]).hex()
                for e in records.events.RecordAnchored().process_receipt(receipt)
            ]
        return leaves

    def rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in response, response
        return response["result"]


@pytest.fixture
def small() -> Iterator[Small]:
    with Anvil() as node:
        forget_nonces()
        yield Small(node)
        forget_nonces()


@pytest.mark.parametrize("confirmations", [0, 12])
def test_revert_and_new_transactions_leave_no_orphans(
    small: Small, conn: sqlite3.Connection, confirmations: int
) -> None:
    cid = small.w3.eth.chain_id
    snap = small.rpc("evm_snapshot", [])
    fork_block = small.w3.eth.block_number + 1
    orphans = small.anchor(3, 20)  # 20 blocks that will vanish (deeper than the 12-block window)
    indexer = Indexer(small.w3, small.suite, conn, confirmations=confirmations)
    indexer.run()
    assert len(events_touching(conn, cid, orphans[0])) == 1
    assert small.rpc("evm_revert", [snap]) is True
    forget_nonces()
    kept = small.anchor(2, 5)  # the new history: fewer, different blocks at the same heights
    result = Indexer(small.w3, small.suite, conn, confirmations=confirmations).run()
    assert result.reorg_from == fork_block
    assert all(events_touching(conn, cid, leaf) == [] for leaf in orphans)
    assert all(len(events_touching(conn, cid, leaf)) == 1 for leaf in kept)
    assert stored_events(conn, cid) == chain_events(small.w3, small.suite)
    assert conn.execute("SELECT MAX(number) FROM index_blocks").fetchone()[0] == small.w3.eth.block_number
    orphan_subjects = conn.execute(
        "SELECT COUNT(*) FROM event_subjects s LEFT JOIN events e ON e.id = s.event_id WHERE e.id IS NULL"
    ).fetchone()[0]
    assert orphan_subjects == 0
    orphan_txs = conn.execute(
        "SELECT COUNT(*) FROM index_txs t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.tx_id = t.id)"
    ).fetchone()[0]
    assert orphan_txs == 0


def test_anvil_reorg_of_recent_blocks_is_repaired(small: Small, conn: sqlite3.Connection) -> None:
    cid = small.w3.eth.chain_id
    leaves = small.anchor(2, 6)
    Indexer(small.w3, small.suite, conn, confirmations=0).run()
    head = small.w3.eth.block_number
    small.rpc("anvil_reorg", [3, []])  # the last 3 blocks replaced by empty ones: same heights, new hashes
    forget_nonces()
    assert small.w3.eth.block_number == head
    result = Indexer(small.w3, small.suite, conn, confirmations=0).run()
    assert result.reorg_from == head - 2 and result.dropped == 6
    assert [len(events_touching(conn, cid, leaf)) for leaf in leaves] == [1] * 6 + [0] * 6
    assert stored_events(conn, cid) == chain_events(small.w3, small.suite)


def test_another_deployment_on_the_chain_rebuilds_the_index(small: Small, conn: sqlite3.Connection) -> None:
    cid = small.w3.eth.chain_id
    small.anchor(1, 2)
    Indexer(small.w3, small.suite, conn, confirmations=0).run()
    a = small.w3.eth.accounts
    other = Suite.load(small.w3, deploy_all(small.w3, a[0], [a[0]], ["Council 2"], 1, write=False))
    result = Indexer(small.w3, other, conn, confirmations=0).run()
    assert result.reset and result.dropped > 0
    assert {r[0] for r in conn.execute("SELECT contract FROM events WHERE chain_id = ?", (cid,))} == {
        "Consortium"
    }
    assert len(stored_events(conn, cid)) == len(chain_events(small.w3, other))
